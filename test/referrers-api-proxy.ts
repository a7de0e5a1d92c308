/**
 * A test double of the OCI 1.1 referrers API: a loopback proxy in front of a registry that has none
 * (distribution 2.8), run as its own process (`node referrers-api-proxy.js TARGET_HOST:PORT`; it prints
 * its port). It forwards everything, notes each manifest PUT with a `subject`, and answers
 * `GET /v2/<repo>/referrers/<digest>` itself from what it noted, filtered by `artifactType`.
 * `GET /__queries` says how many referrers queries it answered.
 */
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';

interface Noted {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

const [target] = process.argv.slice(2) as [string];
{
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const referrers = new Map<string, Noted[]>();
  let queries = 0;
  const server = createServer((req, res) => {
    if (req.url === '/__queries') return res.end(String(queries));
    const url = new URL(req.url ?? '/', 'http://proxy');
    const api = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (api && req.method === 'GET') {
      queries++;
      const type = url.searchParams.get('artifactType');
      const manifests = (referrers.get(`${api[1]}@${api[2]}`) ?? []).filter((d) => type === null || d.artifactType === type);
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', ...(type !== null ? { 'oci-filters-applied': 'artifactType' } : {}) });
      return res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const put = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url.pathname);
      const upstream = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
        if (put && req.method === 'PUT' && up.statusCode === 201) {
          const m = JSON.parse(body.toString()) as { mediaType: string; artifactType?: string; config?: { mediaType: string }; subject?: { digest: string }; annotations?: Record<string, string> };
          if (m.subject) {
            const key = `${put[1]}@${m.subject.digest}`;
            const noted: Noted = { mediaType: m.mediaType, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length, artifactType: m.artifactType ?? m.config?.mediaType, ...(m.annotations ? { annotations: m.annotations } : {}) };
            referrers.set(key, [...(referrers.get(key) ?? []).filter((d) => d.digest !== noted.digest), noted]);
          }
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
}
