import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, chmodSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extract, pack } from 'tar-stream';
import { tarDiff } from '../worker/layers/layer-writer.js';
import { TarBuilder, type TarEntry } from '../worker/layers/tar-writer.js';
import { tempDir } from './helpers.js';

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

/** What tar-stream's own `pack` writes for these entries (bodies given for files). */
function packed(entries: [TarEntry, Buffer?][]): Promise<Buffer> {
  const p = pack();
  for (const [h, body] of entries) p.entry({ ...h, uname: '', gname: '' }, body ?? Buffer.alloc(0));
  p.finalize();
  return collect(p as AsyncIterable<Buffer>);
}

interface Listed {
  name: string;
  type: string;
  mode: number;
  size: number;
  linkname: string | null;
  mtime: number;
  body: string;
}

async function list(tar: Buffer): Promise<Listed[]> {
  const x = extract();
  const out: Listed[] = [];
  const done = (async () => {
    for await (const entry of x) {
      const body = await collect(entry as AsyncIterable<Buffer>);
      const h = entry.header;
      out.push({ name: h.name, type: h.type!, mode: h.mode!, size: h.size!, linkname: h.linkname ?? null, mtime: h.mtime!.getTime() / 1000, body: body.length > 64 ? `${body.length} bytes` : body.toString() });
    }
  })();
  x.end(tar);
  await done;
  return out;
}

describe('layer tar writer', () => {
  it('writes the bytes tar-stream writes, long and non-ASCII names included', async () => {
    const mtime = new Date(1700000000 * 1000);
    const base = { uid: 0, gid: 0, mtime };
    const big = Buffer.alloc((1 << 20) + 777, 'x');
    const entries: [TarEntry, Buffer?][] = [
      [{ ...base, name: 'dir/', type: 'directory', mode: 0o755 }],
      [{ ...base, name: 'locked/', type: 'directory', mode: 0 }],
      [{ ...base, name: 'dir/file', type: 'file', mode: 0o644, size: 5 }, Buffer.from('hello')],
      [{ ...base, name: 'dir/.wh.gone', type: 'file', mode: 0, size: 0 }],
      [{ ...base, name: `${'a'.repeat(120)}/${'b'.repeat(99)}`, type: 'file', mode: 0o600, size: 3 }, Buffer.from('abc')],
      [{ ...base, name: `${'c'.repeat(180)}`, type: 'file', mode: 0o600, size: 1 }, Buffer.from('c')],
      [{ ...base, name: 'ünïcode', type: 'file', mode: 0o644, size: 1 }, Buffer.from('u')],
      [{ ...base, name: 'link', type: 'symlink', mode: 0o777, linkname: 't'.repeat(150) }],
      [{ ...base, name: 'hard', type: 'link', mode: 0o644, linkname: 'dir/file' }],
      [{ ...base, name: 'null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 }],
      [{ ...base, name: 'pipe', type: 'fifo', mode: 0o644 }],
      [{ ...base, name: 'big', type: 'file', mode: 0o644, size: big.length, uid: 1000, gid: 1000 }, big],
    ];
    const dir = tempDir('tar');
    const tar = new TarBuilder();
    for (const [h, body] of entries) {
      tar.header(h);
      if (body) {
        const path = join(dir, `body-${h.name.length}-${body.length}`);
        writeFileSync(path, body);
        for (const _ of tar.body(path, body.length));
      }
    }
    tar.end();
    assert.deepEqual(Buffer.concat(tar.ready), await packed(entries));
  });

  it('streams a large file a chunk at a time instead of reading it whole first', async () => {
    const root = tempDir('tar-big');
    writeFileSync(join(root, 'big'), Buffer.alloc(8 << 20, 7));
    const chunks = tarDiff(root)[Symbol.asyncIterator]();
    const first = await chunks.next();
    assert.ok(!first.done && first.value.length > 0);
    // Cut short now: a writer that had read the whole file already would not notice.
    truncateSync(join(root, 'big'), 1 << 20);
    await assert.rejects(async () => {
      for (let c = await chunks.next(); !c.done; c = await chunks.next());
    }, /changed while it was being archived/);
  });

  it('archives an upper directory sorted, with whiteouts, opaque directories, hard links and clamped times', async () => {
    const root = tempDir('upper');
    mkdirSync(join(root, 'b', 'opq'), { recursive: true });
    writeFileSync(join(root, 'b', 'opq', 'kept'), 'kept');
    assert.equal(spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(root, 'b', 'opq')]).status, 0);
    writeFileSync(join(root, 'a'), 'first');
    linkSync(join(root, 'a'), join(root, 'c'));
    writeFileSync(join(root, 'big'), Buffer.alloc(3 << 20, 'y'));
    symlinkSync('/etc/passwd', join(root, 'ln'));
    assert.equal(spawnSync('mknod', [join(root, 'deleted'), 'c', '0', '0']).status, 0);
    for (const d of ['b', 'b/opq']) chmodSync(join(root, d), 0o755);
    for (const f of ['b/opq/kept', 'big']) chmodSync(join(root, f), 0o644);
    chmodSync(join(root, 'a'), 0o640);
    const tar = await collect(tarDiff(root, { epoch: 1000 }));
    const entries = await list(tar);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode.toString(8), e.linkname, e.body]),
      [
        ['a', 'file', '640', null, 'first'],
        ['b/', 'directory', '755', null, ''],
        ['b/opq/', 'directory', '755', null, ''],
        ['b/opq/.wh..wh..opq', 'file', '644', null, ''],
        ['b/opq/kept', 'file', '644', null, 'kept'],
        ['big', 'file', '644', null, `${3 << 20} bytes`],
        ['c', 'link', '640', 'a', ''],
        ['.wh.deleted', 'file', '644', null, ''],
        ['ln', 'symlink', '777', '/etc/passwd', ''],
      ],
    );
    assert.ok(entries.every((e) => e.mtime <= 1000));
    // The same tree gives the same bytes.
    assert.deepEqual(await collect(tarDiff(root, { epoch: 1000 })), tar);
  });
});
