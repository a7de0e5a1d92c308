/**
 * An uploaded context written out on the coordinator (`materialiseLocal`): every entry with the mode,
 * owner and content its manifest gives, set-id bits included, and the planner's context knowing each
 * file's digest from the manifest.
 */
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { putBlob } from '../cache/blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { materialiseLocal, UploadedContextError } from '../coordinator/farm/uploaded-context.js';
import { sha256 } from '../oci/digest.js';
import { tempDir } from './helpers.js';

describe('an uploaded context written out for planning', () => {
  it('gives each entry its mode, owner and content, and the context its digests', async () => {
    const store = new FsBlobStore(tempDir('store'));
    const tool = await putBlob(store, '#!/bin/sh\necho tool\n');
    const note = await putBlob(store, 'read only\n');
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) => putBlob(store, `file ${i}\n`)));
    const dir = join(tempDir('uploaded'), 'context');
    const ctx = await materialiseLocal(
      store,
      {
        kind: 'local',
        ignorePatterns: [],
        entries: [
          { path: 'bin', type: 'FILE_TYPE_DIR', mode: 0o755, uid: 0, gid: 0, size: 0 },
          { path: 'bin/tool', type: 'FILE_TYPE_FILE', mode: 0o4755, uid: 1234, gid: 5678, size: tool.size, digest: tool.digest },
          { path: 'locked', type: 'FILE_TYPE_DIR', mode: 0o555, uid: 0, gid: 0, size: 0 },
          { path: 'locked/note', type: 'FILE_TYPE_FILE', mode: 0o2640, uid: 7, gid: 8, size: note.size, digest: note.digest },
          { path: 'link', type: 'FILE_TYPE_SYMLINK', mode: 0o777, uid: 42, gid: 43, size: 0, linkTarget: 'bin/tool' },
          ...many.map((b, i) => ({ path: `many/f${i}`, type: 'FILE_TYPE_FILE' as const, mode: 0o644, uid: 0, gid: 0, size: b.size, digest: b.digest })),
        ],
      },
      dir,
    );
    const st = (p: string) => lstatSync(join(dir, p));
    assert.deepEqual([st('bin/tool').mode & 0o7777, st('bin/tool').uid, st('bin/tool').gid], [0o4755, 1234, 5678], 'the set-uid bit survives the change of owner');
    assert.deepEqual([st('locked/note').mode & 0o7777, st('locked/note').uid, st('locked/note').gid], [0o2640, 7, 8]);
    assert.equal(st('locked').mode & 0o7777, 0o555);
    assert.deepEqual([readlinkSync(join(dir, 'link')), st('link').uid, st('link').gid], ['bin/tool', 42, 43]);
    assert.equal(readFileSync(join(dir, 'bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
    for (let i = 0; i < 40; i++) assert.equal(readFileSync(join(dir, `many/f${i}`), 'utf8'), `file ${i}\n`);
    assert.equal(ctx.fileDigest('bin/tool'), tool.digest);
    assert.equal(ctx.fileDigest('many/f7'), sha256('file 7\n'));
    assert.equal(ctx.entries().get('bin/tool')?.mode, 0o4755, 'the planner walks what was written');
  });

  it('names a file whose content the store lacks, and a path outside the context', async () => {
    const store = new FsBlobStore(tempDir('store'));
    const absent = sha256('never uploaded');
    const entries = (path: string) => [{ path, type: 'FILE_TYPE_FILE' as const, mode: 0o644, uid: 0, gid: 0, size: 3, digest: absent }];
    await assert.rejects(materialiseLocal(store, { kind: 'local', ignorePatterns: [], entries: entries('a/b.txt') }, join(tempDir('u'), 'c')), (err: Error) => err instanceof UploadedContextError && err.message === `uploaded context file a/b.txt (${absent}) is not in the farm's store: upload it first`);
    await assert.rejects(materialiseLocal(store, { kind: 'local', ignorePatterns: [], entries: entries('../escape') }, join(tempDir('u'), 'c')), (err: Error) => err instanceof UploadedContextError && err.message === 'uploaded context names a bad path "../escape"');
  });
});
