import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliPath, makeDir, repoRoot, tempDir, type CliResult } from './helpers.js';
import { makeCertificates } from './registry-helpers.js';

/**
 * The executable (cli/launch.ts) and its code cache, on a copy of dist/bin of its own: other tests run
 * the real one at the same time. The copy sits two levels below the root, as dist/bin does, so that
 * node_modules, package.json and proto/ resolve as they do for the real one.
 */
describe('dockyard executable: the code cache', () => {
  const bin = mkdtempSync(join(repoRoot, 'dist', 'launch-test-'));
  for (const f of ['dockyard.cjs', 'dockyard-program.cjs']) copyFileSync(join(dirname(cliPath), f), join(bin, f));
  const cacheDir = join(bin, 'code-cache');
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(bin, 'dockyard.cjs'), ...args], { encoding: 'utf8' });

  after(() => rmSync(bin, { recursive: true, force: true }));

  it('a successful run writes its command\'s cache, which the next run uses; a failed one writes none', () => {
    assert.equal(existsSync(cacheDir), false);
    let r = run('--version');
    assert.equal(r.status, 0, String(r.stderr));
    assert.equal(r.stdout, `dockyard ${version}\n`);
    const written = readFileSync(join(cacheDir, 'other.bin'));
    assert.ok(written.length > 10_000, `a cache of ${written.length} bytes`);

    r = run('--version');
    assert.equal(r.stdout, `dockyard ${version}\n`);
    assert.deepEqual(readFileSync(join(cacheDir, 'other.bin')), written, 'an accepted cache is not written again');

    r = run('no-such-command');
    assert.equal(r.status, 2);
    assert.match(String(r.stderr), /^error: unknown command "no-such-command"/);
    assert.deepEqual(readdirSync(cacheDir), ['other.bin']);
  });

  it('a run with other Node options (the `dockyard` script gives some) keeps a cache of its own: V8 would reject the other', () => {
    const flagged = (): ReturnType<typeof spawnSync> => spawnSync(process.execPath, ['--initial-old-space-size=64', join(bin, 'dockyard.cjs'), 'version'], { encoding: 'utf8' });
    assert.equal(run('version').status, 0);
    assert.equal(flagged().status, 0);
    const files = readdirSync(cacheDir).filter((n) => n.startsWith('version'));
    assert.equal(files.length, 2, files.join(' '));
    const before = files.map((f) => readFileSync(join(cacheDir, f)));
    assert.equal(run('version').status, 0);
    assert.equal(flagged().status, 0);
    assert.deepEqual(files.map((f) => readFileSync(join(cacheDir, f))), before, 'neither run replaced the other\'s cache');
  });

  it('where the program\'s folder is read-only, it runs without a cache and says nothing about it', () => {
    const ro = mkdtempSync(join(repoRoot, 'dist', 'launch-test-ro-'));
    try {
      for (const f of ['dockyard.cjs', 'dockyard-program.cjs']) copyFileSync(join(bin, f), join(ro, f));
      // A read-only bind mount: root writes through file permissions, not through this.
      assert.equal(spawnSync('mount', ['--bind', ro, ro]).status, 0);
      try {
        assert.equal(spawnSync('mount', ['-o', 'remount,bind,ro', ro]).status, 0);
        for (let i = 0; i < 2; i++) {
          const r = spawnSync(process.execPath, [join(ro, 'dockyard.cjs'), '--version'], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout, `dockyard ${version}\n`);
          assert.equal(r.stderr, '');
        }
        assert.equal(existsSync(join(ro, 'code-cache')), false);
      } finally {
        spawnSync('umount', [ro]);
      }
    } finally {
      rmSync(ro, { recursive: true, force: true });
    }
  });

  it('a cache V8 rejects (corrupt, or from another Node) is compiled past and replaced', () => {
    mkdirSync(cacheDir, { recursive: true });
    const garbage = Buffer.alloc(4096, 0x5a);
    writeFileSync(join(cacheDir, 'du.bin'), garbage);
    const r = run('du', '--help');
    assert.equal(r.status, 0, String(r.stderr));
    assert.match(String(r.stdout), /^Usage: dockyard du/);
    assert.equal(r.stderr, '');
    const now = readFileSync(join(cacheDir, 'du.bin'));
    assert.notDeepEqual(now, garbage);
    assert.ok(now.length > 10_000);
    assert.deepEqual(readdirSync(cacheDir).filter((n) => n.startsWith('du.bin.')), [], 'no temporary file left');
  });
});

/** The `dockyard` command as npm installs it: a link, elsewhere, to dist/bin/dockyard. */
describe('dockyard executable: NODE_EXTRA_CA_CERTS', () => {
  const command = join(tempDir('bin'), 'dockyard');
  symlinkSync(join(dirname(cliPath), 'dockyard'), command);
  const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
  /** Asynchronous: the HTTPS server below answers from this process. */
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = spawn(command, args, { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('is not read by Node at start: a command that connects nowhere does not see it', async () => {
    // Node itself warns at start about a file it cannot read (it costs every command 50 to 100 ms to parse one it can).
    const direct = spawnSync(process.execPath, [cliPath, '--version'], { env: { ...env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' }, encoding: 'utf8' });
    assert.match(direct.stderr, /Ignoring extra certs from `\/nonexistent\/ca\.pem`/);
    const r = await run(['--version'], { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^dockyard \d/);
    assert.equal(r.stderr, '');
  });

  it('is trusted when a connection is made (ADD over HTTPS from a server its CA signed)', async () => {
    const certs = makeCertificates(tempDir('extra-ca'));
    const server = createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (_req, res) => res.end('fetched over TLS\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/f`;
      const dir = makeDir({ Dockerfile: `FROM scratch\nADD ${url} /f\n` });
      const build = (extra: NodeJS.ProcessEnv): Promise<CliResult> => {
        const out = tempDir('extra-ca-out');
        return run(['build', '--progress', 'quiet', '--cache-dir', tempDir('extra-ca-cache'), '-o', `type=local,dest=${out}`, dir], extra).then((r) => {
          if (r.status === 0) assert.equal(readFileSync(join(out, 'f'), 'utf8'), 'fetched over TLS\n');
          return r;
        });
      };
      const trusted = await build({ NODE_EXTRA_CA_CERTS: certs.ca });
      assert.equal(trusted.status, 0, trusted.stderr);
      const untrusted = await build({});
      assert.equal(untrusted.status, 1);
      assert.match(untrusted.stderr, new RegExp(`^error: .*ADD ${url.replace(/\./g, '\\.')}: .*certificate`, 'm'));
    } finally {
      server.close();
    }
  });
});
