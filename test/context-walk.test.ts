/**
 * The context walk done by find in a process of its own against the walk in this process: the same
 * entries (type, mode, owner, size, link target) and the same stamps, whatever the ignore rules, on a
 * tree with the awkward parts a context can have. Each is checked against expected paths too, so that
 * both being wrong alike fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BuildContext } from '../coordinator/context/build-context.js';
import { parseFindOutput, walkHere, walkWithFind as findRecords, type WalkedTree } from '../coordinator/context/context-walk.js';
import { IgnoreRules } from '../worker/file/ignore-rules.js';
import { makeDir, tempDir } from './helpers.js';

function awkwardTree(): string {
  const dir = makeDir({
    'a.txt': 'alpha',
    'name with spaces': 'x',
    'line\nbreak': 'y',
    'ünïcode-名前': 'z',
    'src/main.ts': 'main',
    'src/node_modules/dep/index.js': 'nested dep',
    'node_modules/top/index.js': 'top dep',
    '.git/HEAD': 'ref: refs/heads/main',
    'build-out/x.o': 'object',
    'keep/drop.log': 'log',
    'keep/stay.txt': 'stay',
    'dist/app.js': 'app',
    'tmp/t': 't',
    'glob[1]/*star': 'literal brackets',
  });
  chmodSync(join(dir, 'a.txt'), 0o4755);
  mkdirSync(join(dir, 'sticky'), { mode: 0o700 });
  chmodSync(join(dir, 'sticky'), 0o1777);
  mkdirSync(join(dir, 'empty'));
  chownSync(join(dir, 'src/main.ts'), 1234, 5678);
  symlinkSync('target with spaces/../x', join(dir, 'link'));
  symlinkSync('src', join(dir, 'dirlink'));
  spawnSync('mkfifo', [join(dir, 'fifo')]);
  // The epoch, and a time with nanoseconds.
  utimesSync(join(dir, 'tmp/t'), 0, 0);
  utimesSync(join(dir, 'name with spaces'), 1_700_000_000.123456789, 1_700_000_000.987654321);
  return dir;
}

/** find's walk, parsed. */
async function walkWithFind(dir: string, rules: IgnoreRules): Promise<WalkedTree | undefined> {
  const text = await findRecords(dir, rules);
  return text === undefined ? undefined : parseFindOutput(text, rules);
}

const sorted = (t: WalkedTree): [unknown[], [string, string][]] => [[...t.entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1)), [...t.stamps].sort()];

describe('the context walk', () => {
  const dir = awkwardTree();
  const cases: [string, string[], (paths: string[]) => void][] = [
    ['no rules', [], (paths) => assert.ok(['fifo', 'line\nbreak', 'ünïcode-名前', 'src/node_modules/dep/index.js', '.git/HEAD', 'glob[1]/*star'].every((p) => paths.includes(p)))],
    ['literal paths', ['node_modules', '/.git', './dist/', 'glob[1]'], (paths) => assert.ok(!paths.some((p) => /^(node_modules|\.git|dist)/.test(p)) && paths.includes('src/node_modules/dep/index.js') && paths.includes('glob[1]/*star'), 'a bracket is a class, not a literal')],
    ['a name anywhere', ['**/node_modules'], (paths) => assert.ok(!paths.some((p) => p.includes('node_modules')) && paths.includes('src/main.ts'))],
    ['wildcards', ['build-*', '**/*.log', 'tmp/?'], (paths) => assert.ok(!paths.some((p) => p.startsWith('build-out') || p.endsWith('.log') || p === 'tmp/t') && paths.includes('tmp') && paths.includes('keep/stay.txt'))],
    ['an exception inside an ignored directory', ['keep', '!keep/stay.txt', 'node_modules'], (paths) => assert.deepEqual(paths.filter((p) => p.startsWith('keep') || p.startsWith('node_modules')), ['keep/stay.txt'])],
  ];
  for (const [name, patterns, expect] of cases) {
    it(`gives the same tree and stamps with find as in this process: ${name}`, async () => {
      const rules = new IgnoreRules(patterns);
      const found = await walkWithFind(dir, rules);
      assert.ok(found, 'find walked the tree');
      assert.deepEqual(sorted(found), sorted(walkHere(dir, rules)));
      expect([...found.entries.keys()]);
    });
  }

  it('records the type, mode, owner, size and link target of each entry', async () => {
    const t = (await walkWithFind(`${dir}/`, new IgnoreRules([])))!;
    assert.deepEqual(t.entries.get('a.txt'), { path: 'a.txt', type: 'file', mode: 0o4755, uid: 0, gid: 0, size: 5 });
    assert.deepEqual(t.entries.get('sticky'), { path: 'sticky', type: 'dir', mode: 0o1777, uid: 0, gid: 0, size: 0 });
    assert.deepEqual(t.entries.get('src/main.ts'), { path: 'src/main.ts', type: 'file', mode: 0o644, uid: 1234, gid: 5678, size: 4 });
    assert.deepEqual(t.entries.get('link'), { path: 'link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkTarget: 'target with spaces/../x' });
    assert.equal(t.entries.get('fifo')?.type, 'other');
    assert.equal(t.entries.has('src/main.ts') && !t.entries.has('dirlink/main.ts'), true, 'a symlink to a directory is not followed');
    assert.match(t.stamps.get('a.txt')!, /^5 \d{10}\.\d{10} \d+$/, 'size, ctime with nanoseconds, inode');
  });

  it('changes a stamp on any write, even one that keeps the size and restores the mtime, and on a touch', async () => {
    const d = makeDir({ 'f.txt': 'same' });
    const before = (await walkWithFind(d, new IgnoreRules([])))!.stamps.get('f.txt');
    writeFileSync(join(d, 'f.txt'), 'SAME');
    utimesSync(join(d, 'f.txt'), 1_700_000_000, 1_700_000_000);
    const once = (await walkWithFind(d, new IgnoreRules([])))!.stamps.get('f.txt');
    utimesSync(join(d, 'f.txt'), 1_700_000_000, 1_700_000_000);
    writeFileSync(join(d, 'f.txt'), 'SAME');
    const after = (await walkWithFind(d, new IgnoreRules([])))!.stamps.get('f.txt');
    await new Promise((r) => setTimeout(r, 5));
    utimesSync(join(d, 'f.txt'), 1_600_000_000, 1_600_000_000);
    const touched = (await walkWithFind(d, new IgnoreRules([])))!.stamps.get('f.txt');
    assert.notEqual(before, once);
    assert.notEqual(once, after);
    assert.notEqual(after, touched);
    assert.equal(touched, walkHere(d, new IgnoreRules([])).stamps.get('f.txt'));
  });

  it('leaves a name that is not UTF-8 to the walk in this process', async () => {
    const d = tempDir('latin1');
    writeFileSync(Buffer.concat([Buffer.from(`${d}/`), Buffer.from([0x63, 0x61, 0x66, 0xe9])]), 'café in Latin-1');
    assert.equal(await walkWithFind(d, new IgnoreRules([])), undefined);
  });

  it('does not let find into what the rules ignore whole (a name that is not UTF-8 inside shows it)', async () => {
    const d = makeDir({ 'node_modules/x': 'x', 'a/cache/y': 'y', 'keep.txt': 'k' });
    for (const sub of ['node_modules', 'a/cache']) writeFileSync(Buffer.concat([Buffer.from(`${d}/${sub}/`), Buffer.from([0xe9])]), 'Latin-1');
    const pruned = await walkWithFind(d, new IgnoreRules(['/node_modules/', '**/cache']));
    assert.deepEqual([...pruned!.entries.keys()].sort(), ['a', 'keep.txt']);
    assert.equal(await walkWithFind(d, new IgnoreRules(['node_modules', 'a/cach?'])), undefined, 'a wildcard is not pruned');
  });

  it('loads a context in the background: entries and checksums as a walk in this process gives them', async () => {
    const loaded = BuildContext.open(dir);
    await loaded.load();
    const here = BuildContext.open(dir);
    assert.deepEqual([...loaded.entries().keys()].sort(), [...here.entries().keys()].sort());
    assert.equal(loaded.fileDigest('src/main.ts'), here.fileDigest('src/main.ts'));
  });
});
