import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { putBlob, readBlob } from '../cache/blob-store.js';
import type { LayerRecord } from '../cache/cache-index.js';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { FsCacheIndex } from '../cache/fs-cache-index.js';
import { contentService, GET_BLOBS_MAX_BLOB } from '../coordinator/farm/content-service.js';
import { sha256, type Digest } from '../oci/digest.js';
import { startGrpcServer } from '../proto/transport.js';
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

describe("a farm worker's local cache fetching a step's files", () => {
  const closing: { close(): unknown }[] = [];
  after(async () => {
    for (const c of closing.reverse()) await c.close();
  });

  it('takes small files many to a call from the Content service and large ones by download, each once', async () => {
    const served = new FsBlobStore(tempDir('served'));
    const server = await startGrpcServer({ listen: '127.0.0.1:0', tls: {}, token: 'tok', services: [contentService(served, { spoolDir: tempDir('spool') })] });
    closing.push(server);
    const client = new ContentBlobStore(server.address, { token: 'tok' }, { scratchDir: tempDir('scratch') });
    closing.push(client);
    const files = await Promise.all(Array.from({ length: 300 }, (_, i) => putBlob(served, `file ${i}\n`)));
    const large = await putBlob(served, randomBytes(GET_BLOBS_MAX_BLOB + 1));
    const asked: Digest[][] = [];
    // The client, counting its calls for many blobs.
    const remote = Object.assign(Object.create(client) as ContentBlobStore, {
      getBlobs: (digests: Digest[]) => (asked.push(digests), client.getBlobs(digests)),
    });
    const cache = new LocalCache(tempDir('local-cache'), Number.MAX_SAFE_INTEGER, 0);
    const session = await cache.open();
    const digests = [large.digest, ...files.map((f) => f.digest), files[0]!.digest];
    assert.equal((await cache.ensure(session, digests, remote)).downloaded, 301);
    assert.deepEqual(asked.map((a) => a.length), [256, 45], 'every missing file asked for, 256 to a call');
    for (const f of [...files, large]) assert.ok((await readBlob(session.blobs, f.digest)).equals(await readBlob(served, f.digest)));
    asked.length = 0;
    assert.equal((await cache.ensure(session, digests, remote)).downloaded, 0);
    assert.deepEqual(asked, [], 'nothing asked for once all are here');
    await session.lease.release();
  });
});
