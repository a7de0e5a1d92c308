import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshCache, requireTools } from './engine-helpers.js';
import { makeDir, runCli } from './helpers.js';
import { startFaultyProxy, startRegistry, type FaultyProxy, type TestRegistry } from './registry-helpers.js';

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

/** The tag resolves, directly at the registry, to a manifest whose every blob exists. */
async function assertComplete(registry: string, repo: string, tag: string): Promise<string> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT } });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    assert.equal((await fetch(`http://${registry}/v2/${repo}/blobs/${d}`, { method: 'HEAD' })).status, 200, `${repo}:${tag} points at missing blob ${d}`);
  }
  return res.headers.get('docker-content-digest')!;
}

describe('through a faulty connection', () => {
  let registry: TestRegistry;
  let proxy: FaultyProxy;
  before(async () => {
    requireTools();
    registry = await startRegistry();
    proxy = await startFaultyProxy(registry.host, 7, 0.2);
  });
  after(() => registry?.stop());

  it('pushes and pulls 20 times with identical digests, never leaving a tag incomplete', async () => {
    // Two layers big enough to be cut mid-body; times fixed so that every round builds the same image.
    const dir = makeDir({
      Dockerfile: 'FROM scratch\nCOPY big.txt /big.txt\nCOPY small.txt /small.txt\n',
      'big.txt': 'dockyard '.repeat(400_000),
      'small.txt': 'small\n',
    });
    const pullDir = makeDir({ Dockerfile: `FROM ${proxy.host}/faulty/app:1\nCOPY marker /marker\n`, marker: 'm' });
    const digests = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const push = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-t', `${proxy.host}/faulty/app:1`, '--push', dir]);
      assert.equal(push.status, 0, `round ${round} push: ${push.stderr}`);
      digests.add(push.stdout.trim());
      assert.equal(await assertComplete(registry.host, 'faulty/app', '1'), push.stdout.trim());
      const pull = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '-o', `type=local,dest=${makeDir()}`, pullDir]);
      assert.equal(pull.status, 0, `round ${round} pull: ${pull.stderr}`);
    }
    assert.equal(digests.size, 1, 'every round pushed the same image');
    const stats = await proxy.stats();
    assert.ok(stats.faults >= 20, `the proxy injected only ${stats.faults} faults in ${stats.requests} requests`);
  });
});
