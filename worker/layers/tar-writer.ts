import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { encodePax, encodeTarHeader, type TarHeaderFields, type TarHeaderType } from './tar-header.js';

/**
 * A tar writer for layer diffs that reads the tree with synchronous calls and writes headers and file
 * bodies straight into 1 MB output chunks: a diff of thousands of small files costs a few system calls
 * per file instead of several promise and stream round trips per entry. Its bytes are exactly those
 * tar-stream's `pack` gives for the same entries (`tar-header.ts` encodes headers by the same
 * conventions, defaults as `pack.entry` applies them), so diffIDs and image digests do not change.
 */

export type TarEntryType = Exclude<TarHeaderType, 'pax-header' | 'contiguous-file'>;

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const CHUNK = 1 << 20;
/** Files from this size on are read on the thread pool (`largeBody`); a smaller one costs less read here. */
const LARGE_FILE = 256 << 10;
const ZEROS = Buffer.alloc(1024);

/** Accumulates the archive in fixed-size buffers; full ones wait in `ready` to be yielded. */
export class TarBuilder {
  readonly ready: Buffer[] = [];
  private out = Buffer.allocUnsafe(CHUNK);
  private pos = 0;

  private put(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      const n = buf.copy(this.out, this.pos, off);
      off += n;
      this.pos += n;
      if (this.pos === CHUNK) this.flush();
    }
  }

  private pad(size: number): void {
    const rest = size & 511;
    if (rest) this.put(ZEROS.subarray(0, 512 - rest));
  }

  flush(): void {
    if (this.pos === 0) return;
    this.ready.push(this.out.subarray(0, this.pos));
    this.out = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
  }

  /** The header (with a PAX header first when a name does not fit ustar), as tar-stream's pack writes it. */
  header(entry: TarEntry): void {
    const size = entry.type === 'file' ? (entry.size ?? 0) : 0;
    const h: TarHeaderFields = { ...entry, size, mode: entry.mode || (entry.type === 'directory' ? 0o755 : 0o644), uname: '', gname: '' };
    const plain = encodeTarHeader(h);
    if (plain) return this.put(plain);
    const pax = encodePax({ name: h.name, ...(h.linkname ? { linkname: h.linkname } : {}) });
    const paxHeader: TarHeaderFields = { ...h, name: 'PaxHeader', size: pax.length, type: 'pax-header', linkname: h.linkname ? 'PaxHeader' : '' };
    this.put(encodeTarHeader(paxHeader)!);
    this.put(pax);
    this.pad(pax.length);
    this.put(encodeTarHeader({ ...paxHeader, size, type: h.type })!);
  }

  /**
   * A regular file's body: exactly `size` bytes read from `path`, then padding. Steps once per full
   * output chunk, so that a caller can hand on `ready` chunks as they fill.
   */
  *body(path: string, size: number): Generator<void> {
    const fd = openSync(path, 'r');
    try {
      for (let left = size; left > 0; ) {
        const n = readSync(fd, this.out, this.pos, Math.min(left, CHUNK - this.pos), null);
        left -= this.advance(n, path, size);
        if (this.pos === 0) yield;
      }
    } finally {
      closeSync(fd);
    }
    this.pad(size);
  }

  /**
   * The same for a large file, read on the thread pool: copying megabytes here would hold the main
   * thread, and the steps running beside the tar, for the file's whole length.
   */
  async *largeBody(path: string, size: number): AsyncGenerator<void> {
    const file = await open(path, 'r');
    try {
      for (let left = size; left > 0; ) {
        const { bytesRead } = await file.read(this.out, this.pos, Math.min(left, CHUNK - this.pos), null);
        left -= this.advance(bytesRead, path, size);
        if (this.pos === 0) yield;
      }
    } finally {
      await file.close();
    }
    this.pad(size);
  }

  /** Counts `n` bytes read into the output chunk, handing it on when full; returns `n`. */
  private advance(n: number, path: string, size: number): number {
    if (n === 0) throw new Error(`${path} changed while it was being archived (expected ${size} bytes)`);
    this.pos += n;
    if (this.pos === CHUNK) this.flush();
    return n;
  }

  /** The two zero blocks that end an archive. */
  end(): void {
    this.put(ZEROS);
    this.flush();
  }
}

export interface DiffTarOptions {
  /** Clamps file times (SOURCE_DATE_EPOCH, seconds). */
  epoch?: number;
  opaque: Set<string>;
}

/**
 * Entries (or 1 MB of one large file) between turns of the event loop. A consumer that takes chunks as
 * fast as they come (a blob writer) would otherwise keep the loop to the tar from start to end, and the
 * steps running beside a layer's tar (each of a RUN's setup calls, a mount's exit) would wait for all of it.
 */
const TURN_EVERY = 64;

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: Math.floor(rdev / 256) & 0xfff, devminor: (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff & 0xfffff) };
}

/**
 * An overlay upper directory as an OCI layer tar, in sorted order with numeric owners: whiteout devices
 * become `.wh.` entries and opaque directories get `.wh..wh..opq`; hard links within the diff stay links.
 */
export async function* diffTar(root: string, opts: DiffTarOptions): AsyncGenerator<Buffer> {
  const tar = new TarBuilder();
  let sinceTurn = 0;
  const clamp = (d: Date): Date => (opts.epoch !== undefined && d.getTime() > opts.epoch * 1000 ? new Date(opts.epoch * 1000) : d);
  const seenInodes = new Map<string, string>();
  // Depth first, each directory's entries in byte order: a stack of pending names per directory.
  const stack: { dir: string; names: string[]; i: number }[] = [{ dir: '', names: readdirSync(root).sort(byteOrder), i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i === top.names.length) {
      stack.pop();
      continue;
    }
    const name = top.names[top.i++]!;
    const dir = top.dir;
    const rel = dir === '' ? name : `${dir}/${name}`;
    const abs = join(root, rel);
    const st: Stats = lstatSync(abs);
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: clamp(st.mtime) };
    if (st.isCharacterDevice() && st.rdev === 0) {
      tar.header({ ...base, name: dir === '' ? `.wh.${name}` : `${dir}/.wh.${name}`, type: 'file', mode: 0, size: 0 });
    } else if (st.isDirectory()) {
      tar.header({ ...base, name: rel + '/', type: 'directory' });
      if (opts.opaque.has(rel)) tar.header({ ...base, name: `${rel}/.wh..wh..opq`, type: 'file', mode: 0, size: 0 });
      stack.push({ dir: rel, names: readdirSync(abs).sort(byteOrder), i: 0 });
    } else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? seenInodes.get(inode) : undefined;
      if (first !== undefined) {
        tar.header({ ...base, name: rel, type: 'link', linkname: first });
      } else {
        if (st.nlink > 1) seenInodes.set(inode, rel);
        tar.header({ ...base, name: rel, type: 'file', size: st.size });
        // A large file goes out a chunk at a time rather than read whole first.
        if (st.size >= LARGE_FILE) {
          for await (const _ of tar.largeBody(abs, st.size)) yield* handOn(tar);
        } else {
          for (const _ of tar.body(abs, st.size)) {
            yield* handOn(tar);
            await turn();
          }
        }
      }
    } else if (st.isSymbolicLink()) {
      tar.header({ ...base, name: rel, type: 'symlink', linkname: readlinkSync(abs) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      tar.header({ ...base, name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
    } else if (st.isFIFO()) {
      tar.header({ ...base, name: rel, type: 'fifo' });
    }
    // Sockets cannot be stored in a tar and are left out, as in BuildKit.
    yield* handOn(tar);
    if (++sinceTurn === TURN_EVERY) {
      sinceTurn = 0;
      await turn();
    }
  }
  tar.end();
  yield* handOn(tar);
}

/** The builder's full chunks, in order. */
function* handOn(tar: TarBuilder): Generator<Buffer> {
  while (tar.ready.length > 0) yield tar.ready.shift()!;
}
