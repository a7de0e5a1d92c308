/**
 * A token server for the registry's `auth.token` mode, run as its own process by the tests:
 * `node token-server.js PORT KEY.pem CERT.pem ISSUER SERVICE USER PASSWORD REFRESH_TOKEN`.
 * It issues RS256 JWTs for the scopes asked: anonymous callers get nothing, the user gets every
 * action; the OAuth2 POST flow accepts the refresh token. It prints its port when ready.
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';

const [port, keyPath, certPath, issuer, service, user, password, refreshToken] = process.argv.slice(2) as [string, string, string, string, string, string, string, string];
const key = createPrivateKey(readFileSync(keyPath));
const certDer = readFileSync(certPath, 'utf8').replace(/-----[^-]+-----|\s/g, '');
const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function token(scopes: string[], subject: string): string {
  const now = Math.floor(Date.now() / 1000);
  const access = scopes
    .map((s) => s.split(':'))
    .filter((p) => p[0] === 'repository' && p.length >= 3)
    .map((p) => ({ type: 'repository', name: p.slice(1, -1).join(':'), actions: subject ? p.at(-1)!.split(',') : [] }));
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer] }));
  const claims = b64url(JSON.stringify({ iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
  return `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key))}`;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let subject = '';
  let scopes: string[];
  if (req.method === 'POST') {
    const form = new URLSearchParams(await body(req));
    if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== refreshToken) return res.writeHead(401).end('{"error":"invalid_grant"}');
    subject = user;
    scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
  } else {
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (u !== user || p !== password) return res.writeHead(401).end('{"details":"bad credentials"}');
      subject = user;
    }
    scopes = url.searchParams.getAll('scope');
  }
  const t = token(scopes, subject);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: t, access_token: t, expires_in: 300 }));
});
server.listen(Number(port), '127.0.0.1', () => console.log((server.address() as { port: number }).port));
