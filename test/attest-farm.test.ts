import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxDir, freshCache, requireTools } from './engine-helpers.js';
import { startCoordinator, startWorker, type FarmProcess } from './farm-helpers.js';
import { makeDir, repoRoot, runCli } from './helpers.js';
import { startRedis, type TestRedis } from './redis-helpers.js';
import { startRegistry, type TestRegistry } from './registry-helpers.js';
import { generatedKeyPair, PASSWORD } from './signing-helpers.js';
import { spdxValidator } from './spdx-helpers.js';

const skopeo = (...args: string[]): string => {
  const r = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

interface Descriptor {
  digest: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string };
}

describe('attestations of a farm build (--builder --provenance --sbom --push)', () => {
  let redis: TestRedis;
  let registry: TestRegistry;
  let coordinator: FarmProcess & { address: string };
  let worker: FarmProcess;

  before(async () => {
    requireTools();
    registry = await startRegistry();
    redis = await startRedis();
    coordinator = await startCoordinator(redis.url);
    worker = await startWorker(coordinator.address);
    const base = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--build-context', `busybox-bin=${busyboxDir}`, '-t', `${registry.host}/busybox:latest`, '--push', join(repoRoot, 'examples', 'busybox')]);
    assert.equal(base.status, 0, base.stderr);
  });
  after(async () => {
    await worker?.stop();
    await coordinator?.stop();
    await redis?.stop();
    registry?.stop();
  });

  it('attaches the provenance and SBOM the coordinator makes, naming the client\'s CI run as builder', async () => {
    const dir = makeDir({ 'docker/app.Dockerfile': `FROM ${registry.host}/busybox\nCOPY status /var/lib/dpkg/status\n`, status: 'Package: hello\nStatus: install ok installed\nVersion: 2.10-3\n' });
    const env = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'octo/app', GITHUB_RUN_ID: '9', GITHUB_RUN_ATTEMPT: '1' };
    const r = runCli(['build', '--builder', coordinator.address, '--progress', 'plain', '-f', join(dir, 'docker', 'app.Dockerfile'), '-t', `${registry.host}/farm:1`, '--provenance=mode=max', '--sbom', '--push', dir], { env });
    assert.equal(r.status, 0, r.stderr);
    const image = r.stdout.trim();
    const referrers = (JSON.parse(skopeo(`docker://${registry.host}/farm:${image.replace(':', '-')}`)) as { manifests: Descriptor[] }).manifests;
    const statements = new Map<string, { predicate: Record<string, unknown> }>();
    for (const d of referrers) {
      const manifest = JSON.parse(skopeo(`docker://${registry.host}/farm@${d.digest}`)) as { layers: Descriptor[] };
      const res = await fetch(`http://${registry.host}/v2/farm/blobs/${manifest.layers[0]!.digest}`);
      statements.set(d.annotations!['in-toto.io/predicate-type']!, JSON.parse(await res.text()) as { predicate: Record<string, unknown> });
    }
    assert.deepEqual([...statements.keys()].sort(), ['https://slsa.dev/provenance/v1', 'https://spdx.dev/Document']);
    const prov = statements.get('https://slsa.dev/provenance/v1')!.predicate as { buildDefinition: { externalParameters: { configSource: { path: string } }; resolvedDependencies: { uri?: string; digest: { sha256: string } }[] }; runDetails: { builder: { id: string } } };
    assert.equal(prov.runDetails.builder.id, 'https://github.com/octo/app/actions/runs/9/attempts/1');
    assert.equal(prov.buildDefinition.externalParameters.configSource.path, 'docker/app.Dockerfile');
    const baseDigest = JSON.parse(spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/busybox:latest`], { encoding: 'utf8' }).stdout) as { Digest: string };
    assert.equal(prov.buildDefinition.resolvedDependencies.find((d) => d.uri?.startsWith('pkg:docker/'))?.digest.sha256, baseDigest.Digest.slice(7));
    const doc = statements.get('https://spdx.dev/Document')!.predicate as { packages: { name: string }[] };
    assert.deepEqual(spdxValidator()(doc), []);
    assert.deepEqual(doc.packages.slice(1).map((p) => p.name), ['hello']);
  });

  it('--sign on a farm whose coordinators hold no key fails in one line saying how to give them one', () => {
    const dir = makeDir({ Dockerfile: `FROM ${registry.host}/busybox\nRUN echo unsigned > /u\n` });
    const r = runCli(['build', '--builder', coordinator.address, '--progress', 'quiet', '-t', `${registry.host}/unsigned:1`, '--push', '--sign', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: --sign: this farm has no signing key; start its coordinators with --sign-key KEY/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});

describe('a farm signs what it pushes with the key only its coordinator holds (--sign-key)', () => {
  it('signs each platform manifest and the index; dockyard verify accepts them with the public key', async () => {
    requireTools();
    const keys = generatedKeyPair();
    const registry = await startRegistry();
    const redis = await startRedis();
    const coordinator = await startCoordinator(redis.url, ['--sign-key', keys.key], { COSIGN_PASSWORD: PASSWORD });
    const worker = await startWorker(coordinator.address);
    try {
      const base = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--platform', 'linux/amd64,linux/arm64', '--build-context', `busybox-bin=${busyboxDir}`, '-t', `${registry.host}/busybox:latest`, '--push', join(repoRoot, 'examples', 'busybox')]);
      assert.equal(base.status, 0, base.stderr);
      const dir = makeDir({ Dockerfile: `FROM ${registry.host}/busybox\nRUN echo signed > /s\n` });
      // The client has no key and sends none: the farm's coordinator signs.
      const r = runCli(['build', '--builder', coordinator.address, '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', `${registry.host}/farm-signed:1`, '--push', '--sign', dir], { env: { COSIGN_PASSWORD: '' } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /signing 3 manifests/);
      const top = r.stdout.trim();
      const index = JSON.parse(skopeo(`docker://${registry.host}/farm-signed@${top}`)) as { manifests: Descriptor[] };
      for (const digest of [...index.manifests.map((m) => m.digest), top]) {
        const v = runCli(['verify', '--key', keys.pub, `${registry.host}/farm-signed@${digest}`]);
        assert.equal(v.status, 0, v.stderr);
        assert.equal(v.stdout.split('\n').filter(Boolean).length, 2, v.stdout);
      }
      const wrong = generatedKeyPair();
      assert.equal(runCli(['verify', '--key', wrong.pub, `${registry.host}/farm-signed@${top}`]).status, 1);
      assert.ok(!coordinator.stderr().includes(PASSWORD) && !worker.stderr().includes(PASSWORD), 'the password is in a log');
    } finally {
      await worker.stop();
      await coordinator.stop();
      await redis.stop();
      registry.stop();
    }
  });
});
