import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BuildContext } from '../coordinator/context/build-context.js';
import { ContextHashStore } from '../coordinator/context/file-hashes.js';
import { selectFromContext } from '../coordinator/context/selection.js';
import { makeDir, tempDir } from './helpers.js';

const sha = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

/** The one saved hash file of a cache directory, parsed. */
function saved(cacheDir: string): { files: Record<string, [string, string]> } {
  const dir = join(cacheDir, 'context-hashes');
  const names = readdirSync(dir);
  assert.equal(names.length, 1);
  return JSON.parse(readFileSync(join(dir, names[0]!), 'utf8')) as { files: Record<string, [string, string]> };
}

/** Opens `dir` as a build context with the hash cache in `cacheDir`, selects everything, and saves. */
function build(dir: string, cacheDir: string, settledMs = 0): { digest: (p: string) => string; checksum: string } {
  const store = new ContextHashStore(cacheDir, settledMs);
  const ctx = BuildContext.open(dir, undefined, store);
  const { checksum } = selectFromContext(ctx, '.');
  store.saveAll();
  return { digest: (p) => ctx.fileDigest(p), checksum };
}

describe('context file-hash cache', () => {
  it('remembers hashes per context and trusts them while size, mtime, ctime and inode hold', () => {
    const dir = makeDir({ 'a.txt': 'alpha', 'src/b.txt': 'beta' });
    const cache = tempDir('hashes');
    const first = build(dir, cache);
    assert.equal(first.digest('a.txt'), sha('alpha'));
    assert.deepEqual(Object.keys(saved(cache).files).sort(), ['a.txt', 'src/b.txt']);

    // A remembered hash is used as is: forge one, and a build with the same stamps sees it.
    const file = join(cache, 'context-hashes', readdirSync(join(cache, 'context-hashes'))[0]!);
    const data = saved(cache);
    data.files['a.txt']![1] = sha('forged');
    writeFileSync(file, JSON.stringify(data));
    assert.equal(build(dir, cache).digest('a.txt'), sha('forged'));

    // Any write changes ctime: the same size and a restored mtime still make it hash again.
    const st = statSync(join(dir, 'a.txt'));
    writeFileSync(join(dir, 'a.txt'), 'ALPHA');
    utimesSync(join(dir, 'a.txt'), st.atime, st.mtime);
    assert.equal(build(dir, cache).digest('a.txt'), sha('ALPHA'));
    assert.equal(saved(cache).files['a.txt']![1], sha('ALPHA'));
  });

  it('gives the checksums of a build without it, and survives a damaged cache file', () => {
    const dir = makeDir({ 'a.txt': 'alpha', 'b/c.txt': 'gamma' });
    const plain = selectFromContext(BuildContext.open(dir), '.').checksum;
    const cache = tempDir('hashes');
    assert.equal(build(dir, cache).checksum, plain);
    assert.equal(build(dir, cache).checksum, plain);
    const hashDir = join(cache, 'context-hashes');
    writeFileSync(join(hashDir, readdirSync(hashDir)[0]!), '{"version":1,"files":');
    assert.equal(build(dir, cache).checksum, plain);
    // No temporary files are left behind.
    assert.deepEqual(readdirSync(join(cache, 'tmp')), []);
  });

  it('does not remember a file changed within the last moments', () => {
    const dir = makeDir({ 'new.txt': 'fresh' });
    const cache = tempDir('hashes');
    assert.equal(build(dir, cache, 60_000).digest('new.txt'), sha('fresh'));
    assert.equal(existsSync(join(cache, 'context-hashes')), false);
  });
});
