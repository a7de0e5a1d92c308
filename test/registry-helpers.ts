import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './helpers.js';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const running: ChildProcess[] = [];
process.on('exit', () => {
  for (const p of running) p.kill();
});

/** A real CNCF distribution registry on a free loopback port; `basic` adds htpasswd auth for user/password. */
export async function startRegistry(opts: { basic?: { user: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = tempDir('registry');
  const port = await freePort();
  let auth = '';
  if (opts.basic) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.basic.user, opts.basic.password], { encoding: 'utf8' });
    assert.equal(r.status, 0, `htpasswd failed (install apache2-utils: bash scripts/setup.sh): ${r.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  running.push(child);
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${host}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) return { host, stop: () => child.kill() };
    await sleep(50);
  }
  child.kill();
  throw new Error('docker-registry did not start (install it: bash scripts/setup.sh)');
}
