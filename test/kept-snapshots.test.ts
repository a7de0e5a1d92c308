import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import type { Digest } from '../oci/digest.js';
import type { LayerRecord } from '../cache/cache-index.js';
import type { UnnamedLayer } from '../worker/layer.js';
import { SnapshotStore } from '../worker/snapshots/snapshot-store.js';
import { tempDir } from './helpers.js';

const digestOf = (s: string): Digest => `sha256:${createHash('sha256').update(s).digest('hex')}` as Digest;

/** A store in a fresh directory, and an upper directory holding one file. */
function setup(content: string): { store: SnapshotStore; root: string; upper: string } {
  const root = tempDir('kept');
  const store = new SnapshotStore(root, new FsBlobStore(join(root, 'blobs')));
  const upper = join(root, `upper-${Math.random().toString(16).slice(2)}`);
  mkdirSync(upper);
  writeFileSync(join(upper, 'file.txt'), content);
  return { store, root, upper };
}

/** A tar that takes as long as the test says: `finish` gives its diffID, `fail` its error. */
function heldTar(): { describe: (dir: string) => Promise<{ diffID: Digest }>; seen: string[]; finish(d: Digest): void; fail(e: Error): void } {
  let finish!: (d: Digest) => void;
  let fail!: (e: Error) => void;
  const seen: string[] = [];
  return {
    seen,
    describe: (dir) => {
      seen.push(readFileSync(join(dir, 'file.txt'), 'utf8'));
      return new Promise((resolve, reject) => {
        finish = (diffID) => resolve({ diffID });
        fail = reject;
      });
    },
    finish: (d) => finish(d),
    fail: (e) => fail(e),
  };
}

const record = (diffID: Digest): LayerRecord => ({ digest: diffID, diffID, size: 0, mediaType: 'application/vnd.oci.image.layer.v1.tar' });
const leftovers = (store: SnapshotStore): string[] => readdirSync(store.dir).filter((n) => n.startsWith('.tmp-'));

describe('snapshots kept while their tar is written', () => {
  it('mount at once, and take their diffID name only once no mount uses them', async () => {
    const { store, upper } = setup('one\n');
    const tar = heldTar();
    const { snapshot, described } = store.keep(upper, tar.describe);
    assert.ok(!existsSync(upper), 'the upper directory moved into the store');
    assert.deepEqual(tar.seen, ['one\n'], 'the tar reads the kept directory');
    const layer: UnnamedLayer = { snapshot, record: described.then((d) => record(d.diffID)) };
    const mounted = await store.mount([layer], false);
    assert.equal(readFileSync(join(mounted.path, 'file.txt'), 'utf8'), 'one\n');
    const diffID = digestOf('one');
    tar.finish(diffID);
    assert.equal((await described).diffID, diffID);
    assert.ok(!store.has(diffID), 'not moved from under a mount');
    // A second mount while the first holds it still finds it.
    const second = await store.mount([layer], false);
    assert.equal(readFileSync(join(second.path, 'file.txt'), 'utf8'), 'one\n');
    await mounted.release();
    assert.ok(!store.has(diffID));
    await second.release();
    assert.ok(store.has(diffID), 'placed when the last mount went');
    assert.deepEqual(leftovers(store), []);
    // Both the unnamed layer and its record now mount the placed snapshot.
    for (const l of [layer, record(diffID)]) {
      const again = await store.mount([l], false);
      assert.equal(readFileSync(join(again.path, 'file.txt'), 'utf8'), 'one\n');
      await again.release();
    }
  });

  it('are removed when their tar fails, and give way to a snapshot of the same name already there', async () => {
    const { store, upper, root } = setup('first\n');
    const failing = heldTar();
    const failed = store.keep(upper, failing.describe);
    const mounted = await store.mount([{ snapshot: failed.snapshot, record: new Promise<LayerRecord>(() => undefined) }], false);
    failing.fail(new Error('disk full'));
    await assert.rejects(failed.described, /disk full/);
    assert.equal(leftovers(store).length, 1, 'kept while mounted');
    await mounted.release();
    await store.settleKept();
    assert.deepEqual(leftovers(store), []);

    const diffID = digestOf('same');
    const a = heldTar();
    const upperB = join(root, 'upper-b');
    mkdirSync(upperB);
    writeFileSync(join(upperB, 'file.txt'), 'second\n');
    const kept = store.keep(upperB, a.describe);
    a.finish(diffID);
    await kept.described;
    assert.ok(store.has(diffID));
    const upperC = join(root, 'upper-c');
    mkdirSync(upperC);
    writeFileSync(join(upperC, 'file.txt'), 'second\n');
    const b = heldTar();
    const dup = store.keep(upperC, b.describe);
    b.finish(diffID);
    await dup.described;
    await store.settleKept();
    assert.deepEqual(leftovers(store), [], 'the duplicate went');
    const m = await store.mount([{ snapshot: dup.snapshot, record: dup.described.then((d) => record(d.diffID)) }], false);
    assert.equal(readFileSync(join(m.path, 'file.txt'), 'utf8'), 'second\n', 'the layer mounts the copy that was there');
    await m.release();
  });

  it('are placed by settleKept after releaseAll, and a dead process leaves none behind', async () => {
    const { store, upper } = setup('three\n');
    const tar = heldTar();
    const { snapshot, described } = store.keep(upper, tar.describe);
    await store.mount([{ snapshot, record: described.then((d) => record(d.diffID)) }], true);
    await store.releaseAll();
    const settled = store.settleKept();
    const diffID = digestOf('three');
    tar.finish(diffID);
    await settled;
    assert.ok(store.has(diffID));
    assert.deepEqual(leftovers(store), []);

    const dead = spawnSync('true').pid;
    mkdirSync(join(store.dir, `.tmp-${dead}-kept-0123456789ab`));
    await store.cleanStale();
    assert.deepEqual(leftovers(store), []);
  });
});
