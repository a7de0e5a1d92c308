/**
 * An uploaded context opened on the coordinator (`openUploadedContext`): the planner's BuildContext
 * and the step inputs' file trees come from the manifest alone, exactly as they would from the
 * client's directory, and nothing is written.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { BuildContext } from '../coordinator/context/build-context.js';
import { knownFileTree, localFileTree } from '../coordinator/farm/local-files.js';
import { openUploadedContext, readContextManifest, storeLocalContext, UploadedContextError } from '../coordinator/farm/uploaded-context.js';
import { sha256 } from '../oci/digest.js';
import { tempDir } from './helpers.js';

function clientDir(): string {
  const dir = tempDir('client-context');
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'tool'), '#!/bin/sh\necho tool\n');
  lchownSync(join(dir, 'bin', 'tool'), 1234, 5678);
  chmodSync(join(dir, 'bin', 'tool'), 0o4755);
  mkdirSync(join(dir, 'locked'));
  writeFileSync(join(dir, 'locked', 'note'), 'read only\n');
  chmodSync(join(dir, 'locked', 'note'), 0o2640);
  chmodSync(join(dir, 'locked'), 0o750);
  symlinkSync('bin/tool', join(dir, 'link'));
  lchownSync(join(dir, 'link'), 42, 43);
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`);
  writeFileSync(join(dir, 'ignored.log'), 'not sent\n');
  writeFileSync(join(dir, '.dockerignore'), '*.log\n');
  return dir;
}

describe('an uploaded context opened for planning', () => {
  it('gives the planner the entries and digests, and the steps the file trees, that the client directory gives, writing nothing', async () => {
    const dir = clientDir();
    const store = new FsBlobStore(tempDir('store'));
    const local = BuildContext.open(dir);
    const manifest = await readContextManifest(store, await storeLocalContext(store, local));
    assert.equal(manifest.kind, 'local');
    const where = join(tempDir('coordinator'), 'context');
    const { ctx, tree } = await openUploadedContext(store, manifest as Extract<typeof manifest, { kind: 'local' }>, where);
    assert.ok(!existsSync(where), 'nothing written');
    assert.deepEqual([...ctx.entries().keys()].sort(), [...local.entries().keys()].sort());
    assert.ok(!ctx.entries().has('ignored.log'));
    for (const [path, e] of local.entries()) {
      assert.deepEqual(ctx.entries().get(path), e, path);
      if (e.type === 'file') assert.equal(ctx.fileDigest(path), local.fileDigest(path), path);
    }
    assert.equal(ctx.entries().get('bin/tool')?.mode, 0o4755);
    // A step's input: the same tree, entry for entry and checksum, as one read from the directory.
    const allowed = new Set(local.entries().keys());
    assert.deepEqual(await knownFileTree(tree, allowed, store), await localFileTree(dir, allowed, store));
    const some = new Set(['bin', 'bin/tool', 'link', 'f3.txt']);
    assert.deepEqual(await knownFileTree(tree, some, store), await localFileTree(dir, some, store));
  });

  it('names a file whose content the store lacks, and a path outside the context', async () => {
    const store = new FsBlobStore(tempDir('store'));
    const absent = sha256('never uploaded');
    const entries = (path: string) => [{ path, type: 'FILE_TYPE_FILE' as const, mode: 0o644, uid: 0, gid: 0, size: 3, digest: absent }];
    await assert.rejects(openUploadedContext(store, { kind: 'local', ignorePatterns: [], entries: entries('a/b.txt') }, '/nowhere'), (err: Error) => err instanceof UploadedContextError && err.message === `uploaded context file a/b.txt (${absent}) is not in the farm's store: upload it first`);
    await assert.rejects(openUploadedContext(store, { kind: 'local', ignorePatterns: [], entries: entries('../escape') }, '/nowhere'), (err: Error) => err instanceof UploadedContextError && err.message === 'uploaded context names a bad path "../escape"');
  });
});
