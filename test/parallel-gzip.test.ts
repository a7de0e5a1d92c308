import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import type { Digest } from '../oci/digest.js';
import { GzipMemberHints } from '../worker/layers/gzip-member-hints.js';
import { gzipParallel, MAX_CHUNK, MIN_CHUNK, type ChunkRef, type GzipResult, type ReusableMembers } from '../worker/layers/parallel-gzip.js';
import { busyboxLayout } from './engine-helpers.js';
import { makeDir, runCli, tempDir, type CliResult } from './helpers.js';

/** Text of a given size from a fixed seed: compressible, and no two stretches alike. */
function text(bytes: number, seed: number): Buffer {
  const words = ['const', 'value', 'return', 'stream', 'layer', 'chunk', 'index', 'await', 'if', 'else'];
  let a = seed >>> 0;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    a = (Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const w = `${words[a % words.length]}${a % 997} `;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** Finds nothing; given, it makes gzipParallel name each chunk by its hash. */
const nothing: ReusableMembers = { find: async () => undefined };

/** `data` compressed, fed in pieces of `piece` bytes; the bytes written and the result. */
async function compress(data: Buffer, opts: { piece?: number; reuse?: ReusableMembers | null } = {}): Promise<{ bytes: Buffer; result: GzipResult }> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk);
      done();
    },
  });
  const piece = opts.piece ?? 1 << 20;
  async function* pieces(): AsyncIterable<Buffer> {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  }
  const reuse = opts.reuse === undefined ? nothing : opts.reuse;
  const result = await gzipParallel(pieces(), sink, reuse ? { reuse } : {});
  return { bytes: Buffer.concat(out), result };
}

/** Members of an earlier output, found by chunk, counting what was asked and found. */
function membersOf(earlier: { bytes: Buffer; result: GzipResult }): ReusableMembers & { found: number } {
  const byChunk = new Map(earlier.result.members.map((m) => [`${m.sha256}-${m.size}`, earlier.bytes.subarray(m.offset, m.offset + m.length)]));
  const source = {
    found: 0,
    find: async (c: ChunkRef) => {
      const m = byChunk.get(`${c.sha256}-${c.size}`);
      if (m) source.found++;
      return m;
    },
  };
  return source;
}

describe('parallel gzip with content-defined members', () => {
  const original = text(12 << 20, 7);
  // One source file grown in the middle of the layer, as an edit does.
  const edited = Buffer.concat([original.subarray(0, 6 << 20), Buffer.from('// one more line\n'), original.subarray(6 << 20)]);

  it('makes one gzip stream of the input, whatever the pieces it arrives in, with chunks within bounds', async () => {
    const a = await compress(original, { piece: 1 << 20 });
    const b = await compress(original, { piece: 65_537, reuse: null });
    assert.ok(gunzipSync(a.bytes).equals(original));
    assert.ok(a.bytes.equals(b.bytes), 'chunk boundaries depend on the content only, and chunks are the same named or not');
    assert.ok(a.result.members.every((m) => /^[0-9a-f]{64}$/.test(m.sha256)));
    assert.equal(a.result.diffID, `sha256:${createHash('sha256').update(original).digest('hex')}`);
    assert.ok(a.result.members.length > 1);
    for (const m of a.result.members.slice(0, -1)) assert.ok(m.size >= MIN_CHUNK && m.size <= MAX_CHUNK, `chunk of ${m.size} bytes`);
    assert.equal(a.result.members.reduce((n, m) => n + m.size, 0), original.length);
    assert.ok(gunzipSync((await compress(Buffer.alloc(0))).bytes).length === 0);
  });

  it('changes only the members around an edit', async () => {
    const before = new Set((await compress(original)).result.members.map((m) => m.sha256));
    const after = (await compress(edited)).result.members;
    const changed = after.filter((m) => !before.has(m.sha256));
    assert.ok(after.length >= 5, `${after.length} members`);
    assert.ok(changed.length <= 2, `${changed.length} of ${after.length} members changed`);
  });

  it('writes the members it is given for unchanged chunks: the same bytes as compressing them again', async () => {
    const earlier = await compress(original);
    const source = membersOf(earlier);
    const reused = await compress(edited, { reuse: source });
    const fresh = await compress(edited);
    assert.ok(reused.bytes.equals(fresh.bytes));
    assert.ok(source.found >= reused.result.members.length - 2, `${source.found} of ${reused.result.members.length} reused`);
  });

  it('compresses a chunk again when the member offered is not its own', async () => {
    const earlier = await compress(original);
    const wrong = earlier.bytes.subarray(earlier.result.members[1]!.offset, earlier.result.members[1]!.offset + earlier.result.members[1]!.length);
    const corrupt = Buffer.from(wrong);
    corrupt[corrupt.length - 5]! ^= 1;
    for (const offered of [wrong, corrupt, wrong.subarray(0, 12)]) {
      const out = await compress(original, { reuse: { find: async () => offered } });
      assert.ok(out.bytes.equals(earlier.bytes));
    }
    const failing = await compress(original, { reuse: { find: () => Promise.reject(new Error('gone')) } });
    assert.ok(failing.bytes.equals(earlier.bytes));
  });

  it('goes on cutting past reused members while a chunk before them is compressing', async () => {
    const earlier = await compress(original);
    const known = membersOf(earlier);
    const asked: number[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    // Only a fallback so that a stall fails on the order below instead of hanging.
    const fallback = setTimeout(releaseFirst, 10_000);
    let releasedBy = '';
    const reuse: ReusableMembers = {
      find: async (c) => {
        asked.push(asked.length);
        if (asked.length === 1) {
          // The first chunk "compresses" until the fourth has been looked up: two threads, and the
          // two chunks between are reused, so neither may hold the second thread.
          await firstHeld;
          releasedBy ||= 'timeout';
          return undefined;
        }
        if (asked.length === 4) {
          releasedBy ||= 'fourth lookup';
          releaseFirst();
        }
        return known.find(c);
      },
    };
    const out: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (out.push(chunk), done()) });
    async function* pieces(): AsyncIterable<Buffer> {
      for (let i = 0; i < original.length; i += 1 << 20) yield original.subarray(i, i + (1 << 20));
    }
    await gzipParallel(pieces(), sink, { reuse, threads: 2 });
    clearTimeout(fallback);
    assert.equal(releasedBy, 'fourth lookup');
    assert.ok(Buffer.concat(out).equals(earlier.bytes), 'members still written in order');
  });
});

describe('gzip member hints beside the cache', () => {
  it('find the members of a stored blob by chunk, and nothing once the blob is gone or the hints are cleared', async () => {
    const cache = tempDir('gzhints');
    const blobs = new FsBlobStore(cache);
    const hints = new GzipMemberHints(cache);
    const data = text(3 << 20, 11);
    const first = await compress(data);
    const store = async (): Promise<Digest> => {
      const w = blobs.writer();
      await new Promise<void>((resolve) => w.end(first.bytes, resolve));
      return (await w.commit()).digest;
    };
    const digest = await store();
    hints.remember(digest, first.result.members);

    const source = hints.source(blobs);
    const second = await compress(data, { reuse: source });
    assert.ok(second.bytes.equals(first.bytes));
    for (const m of first.result.members) assert.ok((await source.find(m))?.equals(first.bytes.subarray(m.offset, m.offset + m.length)));

    const m0 = first.result.members[0]!;
    await blobs.delete(digest);
    assert.equal(await hints.source(blobs).find(m0), undefined);
    await store();
    assert.ok(await hints.source(blobs).find(m0));
    await hints.clear();
    assert.equal(await new GzipMemberHints(cache).source(blobs).find(m0), undefined);
  });
});

describe('a rebuild after an edit compresses the changed chunks only', () => {
  it('reuses the earlier members of the layer, writes what a fresh compression writes, and prune --all forgets them', async () => {
    const layout = busyboxLayout();
    const cache = tempDir('gzcache');
    const dir = makeDir({ Dockerfile: 'FROM busybox\nCOPY big.txt /big.txt\n' });
    const big = text(6 << 20, 3);
    const build = (content: Buffer, out: string): CliResult => {
      writeFileSync(join(dir, 'big.txt'), content);
      const r = runCli(['build', '--progress', 'quiet', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${layout}`, '-o', `type=oci,dest=${out},tar=false`, dir], { env: { DOCKYARD_TRACE: '1', SOURCE_DATE_EPOCH: '0' } });
      assert.equal(r.status, 0, r.stderr);
      return r;
    };
    build(big, tempDir('gzout'));
    const out = tempDir('gzout');
    const r = build(Buffer.concat([big.subarray(0, 3 << 20), Buffer.from('edited\n'), big.subarray(3 << 20)]), out);
    const m = /gzip: (\d+) of (\d+) members reused/.exec(r.stderr);
    assert.ok(m, r.stderr);
    // Changed: the first chunk (the tar header has the file's new size and time) and those around the edit.
    assert.ok(Number(m[1]) > 0 && Number(m[1]) >= Number(m[2]) - 3, m[0]);

    // The image's own layer: what compressing its content afresh writes, byte for byte.
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const blob = (d: string): Buffer => readFileSync(join(out, 'blobs', 'sha256', d.slice(7)));
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { layers: { digest: string }[] };
    const layer = blob(manifest.layers.at(-1)!.digest);
    assert.ok((await compress(gunzipSync(layer))).bytes.equals(layer));

    assert.ok(existsSync(join(cache, 'gzip-members')));
    assert.equal(runCli(['prune', '--all', '--cache-dir', cache]).status, 0);
    assert.ok(!existsSync(join(cache, 'gzip-members')));
  });
});
