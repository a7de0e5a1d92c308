import { createHash, webcrypto } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { zlib } from '../../oci/lazy-modules.js';
import type { Digest } from '../../oci/digest.js';
import { trace } from '../../oci/trace.js';

/**
 * Chunk bounds. Between them a chunk ends where the content says (a rolling hash of the last 32 bytes
 * has its top 20 bits clear: about 1 MiB past the minimum), so an edit changes only the members around
 * it and the rest can be reused; the same input always gives the same chunks, hence the same bytes.
 */
export const MIN_CHUNK = 512 << 10;
export const MAX_CHUNK = 4 << 20;
/** Members, finished or not, held before they are written: at most this many chunks' worth of memory. */
const MAX_QUEUED = 32;
/** zlib's output buffer per member being compressed. */
const OUTPUT_BUFFER = 1 << 20;
const CUT_MASK = 0xfffff000 | 0;
/** Bytes hashed before the first possible cut, so that a cut depends on nothing but the bytes before it. */
const WARM_UP = 64;

/** The rolling hash's byte table, derived from a fixed string: changing it would change every layer's digest. */
const GEAR = Int32Array.from({ length: 256 }, (_, i) => createHash('sha256').update(`dockyard gzip chunk ${i}`).digest().readInt32LE(0));

/** A chunk of a layer: what a reusable member is looked up by. */
export interface ChunkRef {
  /** sha256 (hex) of the chunk's bytes ('' when the caller gave nothing to reuse). */
  sha256: string;
  size: number;
}

/** Where one chunk's gzip member landed in the output. */
export interface MemberPlacement extends ChunkRef {
  offset: number;
  length: number;
}

/** Members made earlier, by chunk: each is checked against its chunk before it is used. */
export interface ReusableMembers {
  find(chunk: ChunkRef): Promise<Buffer | undefined>;
}

export interface GzipResult {
  /** sha256 of the uncompressed input: a layer's diffID. */
  diffID: Digest;
  uncompressedSize: number;
  members: MemberPlacement[];
}

/** Splits a stream into content-defined chunks (see MIN_CHUNK). */
class Chunker {
  private parts: Buffer[] = [];
  private size = 0;
  private hash = 0;

  /** The chunks that end inside `piece`; the rest of it waits for more. */
  *push(piece: Buffer): Generator<Buffer> {
    let start = 0;
    while (start < piece.length) {
      const cut = this.findCut(piece, start);
      if (cut < 0) {
        this.parts.push(piece.subarray(start));
        this.size += piece.length - start;
        return;
      }
      this.parts.push(piece.subarray(start, cut));
      this.size += cut - start;
      yield this.take();
      start = cut;
    }
  }

  /** The last chunk, if any bytes are left. */
  end(): Buffer | undefined {
    return this.size > 0 ? this.take() : undefined;
  }

  private take(): Buffer {
    const chunk = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.hash = 0;
    return chunk;
  }

  /** The index in `buf` just past the current chunk's end, or -1 when it does not end in `buf`. */
  private findCut(buf: Buffer, start: number): number {
    const end = Math.min(buf.length, start + (MAX_CHUNK - this.size));
    let h = this.hash;
    for (let i = start + Math.max(0, MIN_CHUNK - WARM_UP - this.size); i < end; i++) {
      h = ((h << 1) + GEAR[buf[i]!]!) | 0;
      if ((h & CUT_MASK) === 0 && this.size + (i - start) >= MIN_CHUNK - 1) {
        this.hash = h;
        return i + 1;
      }
    }
    this.hash = h;
    return this.size + (end - start) >= MAX_CHUNK ? end : -1;
  }
}

/** True when `member` is a gzip member of `chunk` as `gzip(chunk, { level })` makes them: header, CRC-32 and size. */
function fits(member: Buffer, chunk: Buffer, header: Buffer): boolean {
  // zlib.crc32 arrived in Node 20.15; without it nothing is reused.
  const crc32 = (zlib() as { crc32?: (data: Buffer) => number }).crc32;
  if (!crc32 || member.length < 18 || !member.subarray(0, 10).equals(header)) return false;
  return member.readUInt32LE(member.length - 8) === crc32(chunk) && member.readUInt32LE(member.length - 4) === chunk.length >>> 0;
}

/**
 * Gzips `source` into `sink` on several threads. Each content-defined chunk becomes one gzip member;
 * concatenated members are one valid gzip stream (RFC 1952), which every OCI client reads. A member
 * `reuse` has for a chunk is written instead of compressing it again: the same bytes, since compression
 * is deterministic for one zlib and level, which is why callers key reusable members by both.
 */
export async function gzipParallel(source: AsyncIterable<Buffer>, sink: Writable, opts: { level?: number; threads?: number; hash?: boolean; reuse?: ReusableMembers } = {}): Promise<GzipResult> {
  const level = opts.level ?? 6;
  const threads = Math.max(1, opts.threads ?? availableParallelism());
  const header = zlib().gzipSync(Buffer.alloc(0), { level }).subarray(0, 10);
  const gzip = promisify(zlib().gzip);
  const hash = createHash('sha256');
  let size = 0;
  let written = 0;
  const members: MemberPlacement[] = [];

  const write = (buf: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      if (sink.write(buf)) resolve();
      else {
        const onDrain = (): void => {
          sink.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          sink.off('drain', onDrain);
          reject(err);
        };
        sink.once('drain', onDrain);
        sink.once('error', onError);
      }
    });

  let reused = 0;
  const compress = async (chunk: Buffer): Promise<{ ref: ChunkRef; member: Buffer }> => {
    // Chunks are named by hash only for a caller that reuses and remembers members; WebCrypto hashes
    // on the thread pool, where the main thread (cutting chunks, writing tars) would otherwise do it.
    const ref = { sha256: opts.reuse ? Buffer.from(await webcrypto.subtle.digest('SHA-256', chunk)).toString('hex') : '', size: chunk.length };
    const known = await opts.reuse?.find(ref).catch(() => undefined);
    if (known && fits(known, chunk, header)) return (reused++, { ref, member: known });
    // A large output buffer: with zlib's 16 KB one, each member came back to the main thread a dozen
    // times, waiting for its turn there each time. The bytes do not depend on it.
    return { ref, member: await gzip(chunk, { level, chunkSize: OUTPUT_BUFFER }) };
  };

  // Members are written in order by one chain, while chunks go on being cut. Only members not yet
  // settled hold a thread (or are about to): a reused one settles at once, so it never keeps a chunk
  // that has changed, further on, from being compressed beside one that is compressing.
  const unsettled = new Set<Promise<unknown>>();
  let queued = 0;
  let writing: Promise<void> = Promise.resolve();
  const submit = async (chunk: Buffer): Promise<void> => {
    const job = compress(chunk);
    unsettled.add(job);
    const settle = (): boolean => unsettled.delete(job);
    job.then(settle, settle);
    queued++;
    writing = writing.then(async () => {
      const { ref, member } = await job;
      members.push({ ...ref, offset: written, length: member.length });
      written += member.length;
      queued--;
      await write(member);
    });
    writing.catch(() => undefined); // awaited below, or the failure is a member's, raised by the race
    while (unsettled.size > threads) await Promise.race(unsettled);
    // Finished members wait for the one before them: bound how many.
    while (queued > MAX_QUEUED) await Promise.race([writing, ...unsettled]);
  };

  const chunker = new Chunker();
  for await (const piece of source) {
    if (opts.hash !== false) hash.update(piece);
    size += piece.length;
    for (const chunk of chunker.push(piece)) await submit(chunk);
  }
  const last = chunker.end();
  if (last || size === 0) await submit(last ?? Buffer.alloc(0));
  await writing;
  if (opts.reuse) trace(`gzip: ${reused} of ${members.length} members reused`);
  return { diffID: `sha256:${hash.digest('hex')}`, uncompressedSize: size, members };
}
