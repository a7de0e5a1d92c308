import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LayerRecord } from '../cache/cache-index.js';
import { FsCacheIndex } from '../cache/fs-cache-index.js';
import { sha256 } from '../oci/digest.js';
import { LocalCache } from '../worker/remote/local-cache.js';
import { tempDir } from './helpers.js';

const layer = (n: number, size: number): LayerRecord => ({ digest: sha256(`layer ${n}`), diffID: sha256(`diff ${n}`), size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });

async function recordedBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const { record } of new FsCacheIndex(dir).list()) bytes += record.layers.reduce((n, l) => n + l.size, 0);
  return bytes;
}

describe("a farm worker's local cache bound", () => {
  it('counts the records once, then every layer remembered after, and prunes when they pass the bound', async () => {
    const dir = tempDir('local-cache');
    const cache = new LocalCache(dir, 150, 0);
    await cache.remember([layer(1, 100)]);
    await cache.enforceLimit();
    assert.equal(await recordedBytes(dir), 100, 'under the bound: nothing pruned');
    // Counted already: this record reaches the bound only through the running total.
    await cache.remember([layer(2, 100)]);
    await cache.enforceLimit();
    const left = await recordedBytes(dir);
    assert.ok(left <= 120, `pruned to 80% of the bound, ${left} bytes left`);
    // Counted again after the prune: a third record is measured against what is really left.
    await cache.remember([layer(3, 10)]);
    await cache.enforceLimit();
    assert.equal(await recordedBytes(dir), left + 10);
  });

  it('a layer remembered twice counts once', async () => {
    const dir = tempDir('local-cache');
    const cache = new LocalCache(dir, 150, 0);
    await cache.enforceLimit();
    for (let i = 0; i < 3; i++) await cache.remember([layer(1, 100)]);
    await cache.enforceLimit();
    assert.equal(await recordedBytes(dir), 100);
  });
});
