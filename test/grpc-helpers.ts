/** Test fixtures for the farm's gRPC transport: certificates made by openssl, and a TCP proxy that breaks a connection. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

export interface TestCertificates {
  /** The CA that signed the server's and the client's certificates. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another self-signed CA, which signed neither. */
  otherCa: string;
}

const openssl = (dir: string, args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function selfSignedCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function signed(dir: string, name: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

/** A CA, a server certificate for 127.0.0.1 and localhost, a client certificate, and an unrelated CA. */
export function makeCertificates(): TestCertificates {
  const dir = tempDir('certs');
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  signed(dir, 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', 'extendedKeyUsage=clientAuth\n');
  const at = (f: string): string => join(dir, f);
  return { ca: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), clientCert: at('client.pem'), clientKey: at('client.key'), otherCa: at('other-ca.pem') };
}

/**
 * A TCP proxy to `target` on loopback whose first connection breaks (both sides destroyed) once
 * `afterBytes` have gone through it in `direction` (`up`: client to server); later connections pass
 * everything.
 */
export async function breakingProxy(target: string, direction: 'up' | 'down', afterBytes: number): Promise<{ address: string; broken(): boolean; close(): Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let connections = 0;
  let broke = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const first = connections++ === 0;
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    let counted = 0;
    const relay = (from: Socket, to: Socket, counts: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (first && counts && !broke) {
          counted += chunk.length;
          if (counted > afterBytes) {
            broke = true;
            client.destroy();
            upstream.destroy();
            return;
          }
        }
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => from.resume());
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    };
    relay(client, upstream, direction === 'up');
    relay(upstream, client, direction === 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    broken: () => broke,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
