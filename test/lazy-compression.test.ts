import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, freshCache, requireTools, stepStates, unpack } from './engine-helpers.js';
import { runCli } from './helpers.js';

const files = {
  Dockerfile: 'FROM busybox AS tool\nRUN head -c 200000 /dev/zero | tr "\\\\0" x > /tool && echo built > /stamp\n\nFROM busybox\nCOPY --from=tool /stamp /stamp\n',
};
const epoch = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];

/** The layer media types of the image `test:latest` in an OCI layout. */
function layerTypes(layout: string): string[] {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { mediaType: string }[] };
  return manifest.layers.map((l) => l.mediaType);
}

describe('layers compressed only when an image needs them', () => {
  before(() => {
    requireTools();
    busyboxLayout();
  });

  it('gives a stage built as an intermediate the gzip layers and digest a fresh build gives, once compressed', () => {
    const cache = freshCache();
    assert.equal(buildOci(files, epoch, { cache }).status, 0);
    // The intermediate stage's layer was stored as its uncompressed tar, never gzipped.
    const types = readdirSync(join(cache, 'index')).flatMap((f) => (JSON.parse(readFileSync(join(cache, 'index', f), 'utf8')) as { layers: { mediaType: string }[] }).layers.map((l) => l.mediaType));
    assert.ok(types.includes('application/vnd.oci.image.layer.v1.tar'));
    // The `tool` stage's layer was an intermediate: now it is the image, from the cache.
    const again = buildOci(files, [...epoch, '--target', 'tool'], { cache });
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(stepStates(again.stderr).ran, []);
    const fresh = buildOci(files, [...epoch, '--target', 'tool'], { cache: freshCache() });
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.equal(again.stdout, fresh.stdout, 'the digest of a build on a fresh cache');
    assert.ok(layerTypes(again.layout).every((t) => t === 'application/vnd.oci.image.layer.v1.tar+gzip'));
    assert.equal(readFileSync(join(unpack(again.layout), 'rootfs', 'stamp'), 'utf8'), 'built\n');

    // Compressed once: a third build adds no blob, and the cache verifies.
    const blobs = readdirSync(join(cache, 'blobs', 'sha256')).length;
    const third = buildOci(files, [...epoch, '--target', 'tool'], { cache });
    assert.equal(third.stdout, fresh.stdout);
    assert.equal(readdirSync(join(cache, 'blobs', 'sha256')).length, blobs);
    const verify = runCli(['du', '--verify', '--cache-dir', cache]);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /: OK\n/);
  });
});
