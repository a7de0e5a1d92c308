import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxDir, freshCache, requireTools, rootfsFile, unpack } from './engine-helpers.js';
import { makeDir, repoRoot, runCli, tempDir } from './helpers.js';
import { startFaultyProxy, startRegistry, type TestRegistry } from './registry-helpers.js';

const skopeo = (...args: string[]) => spawnSync('skopeo', args, { encoding: 'utf8' });
const pushCounts = (stderr: string): string => /pushed .*: (\d+ blobs uploaded, \d+ mounted, \d+ already there)/.exec(stderr)?.[1] ?? `no push line in:\n${stderr}`;

/** Pushes the busybox base to `host`, then builds FROM it there with two tags and --push. */
function assertFromWorks(host: string, env: NodeJS.ProcessEnv): void {
  const base = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--build-context', `busybox-bin=${busyboxDir}`, '-t', `${host}/busybox:latest`, '--push', join(repoRoot, 'examples', 'busybox')], { env });
  assert.equal(base.status, 0, base.stderr);
  const dir = makeDir({ Dockerfile: `FROM ${host}/busybox\nRUN echo authed > /a\n` });
  const r = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '-t', `${host}/app:1`, '-t', `${host}/app:latest`, '--push', dir], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
}

describe('registries', () => {
  let open: TestRegistry;
  let secured: TestRegistry;
  let tokened: TestRegistry;
  before(async () => {
    requireTools();
    open = await startRegistry();
    secured = await startRegistry({ basic: { user: 'ci', password: 'hunter2' } });
    tokened = await startRegistry({ token: { user: 'robot', password: 's3cret', refreshToken: 'refresh-me' } });
    // A multi-platform busybox base, pushed by Dockyard itself.
    const r = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '--platform', 'linux/amd64,linux/arm64', '--build-context', `busybox-bin=${busyboxDir}`, '-t', `${open.host}/busybox:latest`, '--push', join(repoRoot, 'examples', 'busybox')]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    open?.stop();
    secured?.stop();
    tokened?.stop();
  });

  it('pushed the base as an index that skopeo lists with both platforms', () => {
    const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${open.host}/busybox:latest`);
    assert.equal(raw.status, 0, raw.stderr);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['amd64', 'arm64']);
  });

  it('builds FROM the registry, pushes two tags, and skopeo copies the result', () => {
    const dir = makeDir({ Dockerfile: `FROM ${open.host}/busybox\nRUN echo from-registry > /x\nCMD ["cat", "/x"]\n` });
    const cache = freshCache();
    const args = ['build', '--progress', 'plain', '--cache-dir', cache, '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-t', `${open.host}/app:1`, '-t', `${open.host}/app:latest`, '--push', '--metadata-file', join(dir, 'meta.json'), dir];
    const first = runCli(args);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(pushCounts(first.stderr), '2 blobs uploaded, 4 mounted, 0 already there', 'the base\'s 4 layers are mounted from the busybox repository');
    const digest = first.stdout.trim();
    const inspect = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${open.host}/app:1`).stdout) as { Digest: string; RepoTags: string[] };
    assert.equal(inspect.Digest, digest);
    assert.deepEqual(inspect.RepoTags.sort(), ['1', 'latest']);
    const out = tempDir('skopeo');
    const copy = skopeo('copy', '--src-tls-verify=false', `docker://${open.host}/app:latest`, `oci:${out}:app`);
    assert.equal(copy.status, 0, copy.stderr);
    assert.equal(rootfsFile(unpack(out, 'app'), 'x'), 'from-registry\n');
    // The same image again: every blob is already there.
    const second = runCli(args);
    assert.equal(second.stdout.trim(), digest);
    assert.equal(pushCounts(second.stderr), '0 blobs uploaded, 0 mounted, 6 already there');
  });

  it('asks for credentials clearly, and uses those in Docker\'s config.json', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'x' });
    const dockerConfig = tempDir('docker-config');
    const env = { DOCKER_CONFIG: dockerConfig };
    const denied = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '-t', `${secured.host}/private/app:1`, '--push', dir], { env });
    assert.equal(denied.status, 1);
    assert.equal(denied.stderr.trim(), `error: ${secured.host}/private/app: authentication required to push to it and no credentials were found for ${secured.host}: run dockyard login ${secured.host}`);
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('ci:wrong').toString('base64') } } }));
    const wrong = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '-t', `${secured.host}/private/app:1`, '--push', dir], { env });
    assert.match(wrong.stderr, /access denied to push to it with the credentials found for 127\.0\.0\.1:\d+ \(HTTP 401\)/);
    assert.doesNotMatch(wrong.stderr, /wrong/, 'no secret in the message');
    const badLogin = runCli(['login', '-u', 'ci', '-p', 'nope', secured.host], { env });
    assert.equal(badLogin.status, 1);
    const login = runCli(['login', '-u', 'ci', '--password-stdin', secured.host], { env, input: 'hunter2\n' });
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /^Login Succeeded/);
    const ok = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '-t', `${secured.host}/private/app:1`, '--push', dir], { env });
    assert.equal(ok.status, 0, ok.stderr);
    assertFromWorks(secured.host, env);
    const inspect = skopeo('inspect', '--tls-verify=false', '--creds', 'ci:hunter2', `docker://${secured.host}/private/app:1`);
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal(runCli(['logout', secured.host], { env }).stdout, `Removing login credentials for ${secured.host}\n`);
  });

  it('asks a docker-credential helper named in credHelpers', () => {
    const bin = tempDir('helper-bin');
    // A real credential helper: the protocol is the host on stdin, JSON on stdout.
    writeFileSync(join(bin, 'docker-credential-dytest'), `#!/bin/sh\n[ "$1" = get ] || exit 1\nread host\n[ "$host" = "${secured.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"'$host'","Username":"ci","Secret":"hunter2"}'\n`, { mode: 0o755 });
    const dockerConfig = tempDir('docker-config');
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [secured.host]: 'dytest' } }));
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'helper' });
    const r = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '-t', `${secured.host}/helped/app:1`, '--push', dir], { env: { DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  it('takes Bearer tokens from the registry\'s token server, by password or by identity token', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'token' });
    const dockerConfig = tempDir('docker-config');
    const env = { DOCKER_CONFIG: dockerConfig };
    const push = (tag: string) => runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '-t', `${tokened.host}/${tag}`, '--push', dir], { env });
    const anonymous = push('team/app:1');
    assert.match(anonymous.stderr, new RegExp(`error: ${tokened.host.replace(/\./g, '\\.')}/team/app: (authentication required|access denied)`));
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [tokened.host]: { auth: Buffer.from('robot:s3cret').toString('base64') } } }));
    const withPassword = push('team/app:1');
    assert.equal(withPassword.status, 0, withPassword.stderr);
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [tokened.host]: { identitytoken: 'refresh-me' } } }));
    const withIdentity = push('team/app:2');
    assert.equal(withIdentity.status, 0, withIdentity.stderr);
    assertFromWorks(tokened.host, env);
    assert.equal(skopeo('inspect', '--tls-verify=false', '--creds', 'robot:s3cret', `docker://${tokened.host}/team/app:2`).status, 0);
  });

  it('promotes an image with imagetools create, downloading no layer, and inspects it', async () => {
    // A clean proxy in front of the registry counts the bytes the promotion reads.
    const proxy = await startFaultyProxy(open.host, 1, 0);
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY big /big\n', big: 'layer bytes '.repeat(200_000) });
    const built = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '-t', `${open.host}/dev/app:1`, '--push', dir]);
    assert.equal(built.status, 0, built.stderr);
    const digest = built.stdout.trim();
    const promoted = runCli(['imagetools', 'create', '-t', `${proxy.host}/prod/app:stable`, `${proxy.host}/dev/app:1`]);
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.equal(promoted.stdout.trim(), digest, 'same digest, new repository and tag');
    const { bytesToClient } = await proxy.stats();
    assert.ok(bytesToClient < 10_000, `promotion read ${bytesToClient} bytes: layers must not be downloaded`);
    assert.equal(JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${open.host}/prod/app:stable`).stdout).Digest, digest);

    // Two single-platform images become one index.
    const amd = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--platform', 'linux/amd64', '-t', `${open.host}/multi/app:amd64`, '--push', dir]);
    const arm = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--platform', 'linux/arm64', '-t', `${open.host}/multi/app:arm64`, '--push', dir]);
    assert.equal(arm.status, 0, arm.stderr);
    const combined = runCli(['imagetools', 'create', '-t', `${open.host}/multi/app:all`, `${open.host}/multi/app:amd64`, `${open.host}/multi/app:arm64`]);
    assert.equal(combined.status, 0, combined.stderr);
    const shown = runCli(['imagetools', 'inspect', `${open.host}/multi/app:all`]);
    assert.match(shown.stdout, /^Name:      .*\/multi\/app:all\nMediaType: application\/vnd\.oci\.image\.index\.v1\+json\nDigest:    sha256:[0-9a-f]{64}\n\nManifests:\n/);
    assert.match(shown.stdout, /Platform:  linux\/amd64\n[^]*Platform:  linux\/arm64\n$/);
    const raw = JSON.parse(runCli(['imagetools', 'inspect', '--raw', `${open.host}/multi/app:all`]).stdout) as { manifests: { digest: string }[] };
    assert.deepEqual(raw.manifests.map((m) => m.digest), [amd.stdout.trim(), arm.stdout.trim()]);
  });

  it('pulls Docker Hub names through a registry mirror', () => {
    const base = runCli(['imagetools', 'create', '-t', `${open.host}/library/busybox:latest`, `${open.host}/busybox:latest`]);
    assert.equal(base.status, 0, base.stderr);
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN echo via-mirror > /m\n' });
    const out = tempDir('mirror-out');
    const r = runCli(['build', '--progress', 'plain', '--pull', '--cache-dir', freshCache(), '-o', `type=local,dest=${out}`, dir], { env: { DOCKYARD_REGISTRY_MIRRORS: `http://${open.host}` } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'm'), 'utf8'), 'via-mirror\n');
  });

  it('trusts a registry\'s private CA from certs.d, and says where to put it when missing', async () => {
    const tls = await startRegistry({ tls: true });
    try {
      const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'tls' });
      const certs = tempDir('certs');
      const push = () => runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '-t', `${tls.host}/secure/app:1`, '--push', dir], { env: { DOCKYARD_CERTS_DIR: certs } });
      // Loopback without a CA: HTTPS, unverified, as Docker treats local registries.
      assert.equal(push().status, 0);
      // With a CA in certs.d the certificate is checked: a wrong CA fails, with the fix in the message.
      mkdirSync(join(certs, tls.host));
      const other = tempDir('other-ca');
      spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(other, 'k'), '-out', join(certs, tls.host, 'ca.crt'), '-days', '1', '-subj', '/CN=not-the-ca']);
      const untrusted = push();
      assert.equal(untrusted.status, 1);
      assert.match(untrusted.stderr, new RegExp(`cannot reach ${tls.host.replace(/\./g, '\\.')}: .*\\(put the registry's CA certificate in ${certs}/${tls.host.replace(/\./g, '\\.')}/ca\\.crt\\)`));
      copyFileSync(tls.ca!, join(certs, tls.host, 'ca.crt'));
      const trusted = push();
      assert.equal(trusted.status, 0, trusted.stderr);
      assert.equal(skopeo('inspect', '--cert-dir', join(certs, tls.host), `docker://${tls.host}/secure/app:1`).status, 0);
    } finally {
      tls.stop();
    }
  });

  it('says which reference was not found', () => {
    const dir = makeDir({ Dockerfile: `FROM ${open.host}/nothing:here\n` });
    const r = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), dir]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.endsWith(`\nerror: Dockerfile:1: ${open.host}/nothing:here: manifest not found (MANIFEST_UNKNOWN: manifest unknown)\n`), r.stderr);
  });
});
