import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BuildContext } from '../coordinator/context/build-context.js';
import { ContextHashStore } from '../coordinator/context/file-hashes.js';
import { selectFromContext, selectionChecksum } from '../coordinator/context/selection.js';
import { makeDir, tempDir } from './helpers.js';

const sha = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

/** The one saved hash file of a cache directory, parsed. */
function saved(cacheDir: string, only?: 'files'): { files: Record<string, [string, string]> } {
  const dir = join(cacheDir, 'context-hashes');
  const names = readdirSync(dir).filter((n) => only === undefined || !n.endsWith('-selections.json'));
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
  it('remembers hashes per context and trusts them while size, ctime and inode hold', () => {
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

/** Planning's way: the context walked by find in the background, one selection's checksum remembered. */
async function plan(dir: string, cacheDir: string, opts: { settledMs?: number; dockerfile?: string } = {}): Promise<string> {
  const store = new ContextHashStore(cacheDir, opts.settledMs ?? 0);
  const ctx = BuildContext.open(dir, opts.dockerfile, store);
  await ctx.load();
  const checksum = selectionChecksum(ctx, 'src', ['*.tmp']);
  store.saveAll();
  return checksum;
}

const plain = (dir: string, dockerfile?: string): string => selectFromContext(BuildContext.open(dir, dockerfile), 'src', ['*.tmp']).checksum;

/** The remembered selections of the one context in `cacheDir`: its file and document. */
function selections(cacheDir: string): { file: string; doc: { tree: string; checksums: Record<string, string> } } | undefined {
  const dir = join(cacheDir, 'context-hashes');
  const name = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('-selections.json')) : undefined;
  return name === undefined ? undefined : { file: join(dir, name), doc: JSON.parse(readFileSync(join(dir, name), 'utf8')) };
}

/** Replaces every remembered checksum with one no selection has. */
function forge(cacheDir: string): string {
  const { file, doc } = selections(cacheDir)!;
  for (const k of Object.keys(doc.checksums)) doc.checksums[k] = sha('forged');
  writeFileSync(file, JSON.stringify(doc));
  return sha('forged');
}

/** One build's planning whose hashes are saved `waitMs` later, as at the end of a build. */
async function planSavedLater(dir: string, cacheDir: string, settledMs: number, waitMs: number, meanwhile = (): void => undefined): Promise<void> {
  const store = new ContextHashStore(cacheDir, settledMs);
  const ctx = BuildContext.open(dir, undefined, store);
  await ctx.load();
  selectionChecksum(ctx, 'src', ['*.tmp']);
  await new Promise((r) => setTimeout(r, waitMs));
  meanwhile();
  store.saveAll();
}

describe('remembered selection checksums', () => {
  it('gives a remembered checksum as is while find finds the same records, and computes it again after any write', async () => {
    const dir = makeDir({ 'src/a.ts': 'a', 'src/b.tmp': 'b', 'other.txt': 'o' });
    const cache = tempDir('selections');
    assert.equal(await plan(dir, cache), plain(dir));
    assert.deepEqual(Object.keys(selections(cache)!.doc.checksums), ['["src",["*.tmp"]]']);
    const forged = forge(cache);
    assert.equal(await plan(dir, cache), forged, 'taken without parsing the walk or hashing a file');
    // The same size and a restored mtime: only ctime tells.
    const st = statSync(join(dir, 'src/a.ts'));
    writeFileSync(join(dir, 'src/a.ts'), 'A');
    utimesSync(join(dir, 'src/a.ts'), st.atime, st.mtime);
    assert.equal(await plan(dir, cache), plain(dir));
    assert.notEqual(plain(dir), forged);
  });

  it('computes it again when the ignore rules change and the files do not', async () => {
    const dir = makeDir({ 'src/a.ts': 'a', 'src/skip.ts': 's' });
    const outside = makeDir({ Dockerfile: 'FROM scratch\n' });
    const dockerfile = join(outside, 'Dockerfile');
    const cache = tempDir('selections');
    await plan(dir, cache, { dockerfile });
    forge(cache);
    writeFileSync(`${dockerfile}.dockerignore`, 'src/skip.*\n');
    assert.equal(await plan(dir, cache, { dockerfile }), plain(dir, dockerfile));
    assert.notEqual(plain(dir, dockerfile), plain(dir));
  });

  it('remembers nothing while a file it hashed changed within the last moments: the next build hashes it, and remembers both', async () => {
    const dir = makeDir({ 'src/a.ts': 'a' });
    const cache = tempDir('selections');
    assert.equal(await plan(dir, cache, { settledMs: 60_000 }), plain(dir));
    assert.equal(selections(cache), undefined);
    assert.equal(existsSync(join(cache, 'context-hashes')), false);
    // Settled now: the file's hash and the checksum are remembered together, so an edit later hashes one file only.
    assert.equal(await plan(dir, cache), plain(dir));
    assert.ok(selections(cache));
    const hashes = readdirSync(join(cache, 'context-hashes')).find((n) => !n.endsWith('-selections.json'))!;
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(join(cache, 'context-hashes', hashes), 'utf8')) as { files: object }).files), ['src/a.ts']);
  });

  it('checks a file hashed too soon after its change again at the end of the build: settled and unchanged, it and the checksum are remembered', async () => {
    const dir = makeDir({ 'src/a.ts': 'a', 'src/b.ts': 'b' });
    const cache = tempDir('selections');
    await planSavedLater(dir, cache, 300, 400);
    assert.ok(selections(cache), 'the checksum is remembered');
    assert.deepEqual(Object.keys(saved(cache, 'files').files).sort(), ['src/a.ts', 'src/b.ts']);

    // Still fresh at the end, or changed while the build ran: no checksum, and the next build hashes the file again.
    const fresh = tempDir('selections');
    await planSavedLater(makeDir({ 'src/a.ts': 'a' }), fresh, 300, 0);
    assert.equal(selections(fresh), undefined);
    const changed = tempDir('selections');
    const edited = makeDir({ 'src/a.ts': 'a' });
    await planSavedLater(edited, changed, 300, 400, () => writeFileSync(join(edited, 'src/a.ts'), 'A'));
    assert.equal(selections(changed), undefined);
    assert.equal(existsSync(join(changed, 'context-hashes')), false);
  });
});
