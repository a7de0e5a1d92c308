import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, tempDir } from './helpers.js';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** With `tls`: the CA that signed the registry's certificate. */
  ca?: string;
  /** The registry's directory: its config and, under `data`, everything pushed to it. */
  dir: string;
  stop(): void;
}

/** A CA and a certificate it signs for 127.0.0.1, made with openssl. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=dockyard-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.cnf']);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

const running: ChildProcess[] = [];
process.on('exit', () => {
  for (const p of running) p.kill();
});

/** The token server of a registry in `auth.token` mode: a process of its own (the builds block this one). */
async function startTokenServer(dir: string, o: { user: string; password: string; refreshToken: string }): Promise<{ realm: string; cert: string; child: ChildProcess }> {
  const key = join(dir, 'token-key.pem');
  const cert = join(dir, 'token-cert.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=dockyard-test-token'], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'token-server.js'), '0', key, cert, 'dockyard-test', 'test-registry', o.user, o.password, o.refreshToken], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const port = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  // Stopped with the registry, or when the test process exits; it must not keep that process alive.
  child.stdout!.destroy();
  child.unref();
  return { realm: `http://127.0.0.1:${port}/token`, cert, child };
}

/**
 * A real CNCF distribution registry on a free loopback port. `basic` adds htpasswd auth; `token`
 * puts it in `auth.token` mode behind a test token server that signs JWTs; `deletes` allows DELETE of blobs.
 */
export async function startRegistry(opts: { basic?: { user: string; password: string }; token?: { user: string; password: string; refreshToken: string }; tls?: boolean; deletes?: boolean } = {}): Promise<TestRegistry> {
  const dir = tempDir('registry');
  const port = await freePort();
  let auth = '';
  let tls = '';
  const own: ChildProcess[] = [];
  const certs = opts.tls ? makeCertificates(dir) : undefined;
  if (certs) tls = `  tls:\n    certificate: ${certs.cert}\n    key: ${certs.key}\n`;
  if (opts.token) {
    const t = await startTokenServer(dir, opts.token);
    own.push(t.child);
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: test-registry\n    issuer: dockyard-test\n    rootcertbundle: ${t.cert}\n`;
  }
  if (opts.basic) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.basic.user, opts.basic.password], { encoding: 'utf8' });
    assert.equal(r.status, 0, `htpasswd failed (install apache2-utils: bash scripts/setup.sh): ${r.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n${opts.deletes ? '  delete:\n    enabled: true\n' : ''}  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n${tls}${auth}`);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  running.push(child);
  own.push(child);
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const dispatcher = certs ? new Agent({ connect: { ca: readFileSync(certs.ca) } }) : undefined;
    const ok = await undiciFetch(`${certs ? 'https' : 'http'}://${host}/v2/`, dispatcher ? { dispatcher } : {}).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) {
      child.unref();
      return { host, dir, ...(certs ? { ca: certs.ca } : {}), stop: () => own.forEach((p) => p.kill()) };
    }
    await sleep(50);
  }
  child.kill();
  throw new Error('docker-registry did not start (install it: bash scripts/setup.sh)');
}

export interface FaultyProxy {
  host: string;
  /** `METHOD PATH` of every request so far. */
  log(): Promise<string[]>;
  stats(): Promise<{ requests: number; faults: number; bytesToClient: number }>;
}

/** A fault-injecting proxy (drops, delays, 500s, 429s) in front of `target`, in its own process. */
export async function startFaultyProxy(target: string, seed: number, rate: number): Promise<FaultyProxy> {
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'faulty-proxy.js'), target, String(seed), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const port = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  child.stdout!.destroy();
  child.unref();
  const host = `127.0.0.1:${port}`;
  return { host, log: async () => (await fetch(`http://${host}/__log`)).json() as Promise<string[]>, stats: async () => (await fetch(`http://${host}/__stats`)).json() as Promise<{ requests: number; faults: number; bytesToClient: number }> };
}

export interface ReferrersApiProxy {
  host: string;
  /** How many referrers queries it answered. */
  queries(): Promise<number>;
  stop(): void;
}

/** A stand-in for a registry with the referrers API: `referrers-api-proxy.ts` in front of `target`, in its own process. */
export async function startReferrersApiProxy(target: string): Promise<ReferrersApiProxy> {
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'referrers-api-proxy.js'), target], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const port = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  child.stdout!.destroy();
  child.unref();
  const host = `127.0.0.1:${port}`;
  return { host, queries: async () => Number(await (await fetch(`http://${host}/__queries`)).text()), stop: () => child.kill() };
}
