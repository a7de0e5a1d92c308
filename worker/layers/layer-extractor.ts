import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, lchown, lstat, lutimes, mkdir, open, rm, utimes } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Header } from 'tar-stream';
import { markOpaque } from '../system/xattr.js';
import { mkfifo, mknod } from '../system/mknod.js';
import { zlib } from '../../oci/lazy-modules.js';

export class LayerError extends Error {}

/** The entry's path inside the layer, or an error when it would land outside it. */
function safeRelative(name: string): string {
  // A leading / is tar's way of saying "from the top"; a .. that climbs above the top is an attack.
  const cleaned = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (cleaned === '..' || cleaned.startsWith('../')) throw new LayerError(`layer entry ${JSON.stringify(name)} escapes the layer`);
  return cleaned === '.' ? '' : cleaned;
}

/**
 * One extraction. Directories already checked are remembered, so that each entry does not lstat every
 * parent again; into a fresh root, paths the layer has not written cannot exist and are not checked.
 */
class Extraction {
  private readonly dirs = new Set<string>(['']);
  private readonly written = new Set<string>();
  private readonly dirTimes: [string, Date][] = [];
  /** Owner and time changes run alongside the next entries and are awaited at the end. */
  private readonly finishing: Promise<unknown>[] = [];

  constructor(
    private readonly root: string,
    private readonly fresh: boolean,
    private readonly whiteouts: boolean,
    /** ADD --chown: every entry's owner. */
    private readonly owner?: { uid: number; gid: number },
  ) {}

  /** Refuses to write through a symlink or below a non-directory; makes missing parents. */
  private async parents(rel: string): Promise<void> {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.dirs.has(dir)) continue;
      const abs = join(this.root, dir);
      const st = this.fresh && !this.written.has(dir) ? undefined : await lstat(abs).catch(() => undefined);
      // Directories a layer implies without an entry of their own: 0755 and root's, whatever the umask.
      if (!st) {
        mkdirSync(abs);
        chmodSync(abs, 0o755);
      } else if (st.isSymbolicLink()) throw new LayerError(`layer entry ${rel} goes through the symlink ${dir}`);
      else if (!st.isDirectory()) throw new LayerError(`layer entry ${rel} is below the non-directory ${dir}`);
      this.dirs.add(dir);
      this.written.add(dir);
    }
  }

  /** Forgets what was known below `rel`, which is about to be replaced. */
  private forget(rel: string): void {
    for (const d of this.dirs) if (d === rel || d.startsWith(rel + '/')) this.dirs.delete(d);
  }

  async entry(h: Header, body: AsyncIterable<unknown>): Promise<void> {
    const rel = safeRelative(h.name);
    if (rel === '') return drain(body);
    await this.parents(rel);
    const abs = join(this.root, rel);
    const base = posix.basename(rel);
    const mode = h.mode ?? 0o644;
    if (this.whiteouts && base === '.wh..wh..opq') {
      await drain(body);
      return markOpaque(dirname(abs));
    }
    if (this.whiteouts && base.startsWith('.wh.')) {
      await drain(body);
      const target = join(dirname(abs), base.slice(4));
      await rm(target, { recursive: true, force: true });
      this.forget(posix.join(posix.dirname(rel), base.slice(4)));
      return mknod(target, 'c', 0, 0, 0);
    }
    const existing = this.fresh && !this.written.has(rel) ? undefined : await lstat(abs).catch(() => undefined);
    if (existing && !(existing.isDirectory() && h.type === 'directory')) {
      await rm(abs, { recursive: true, force: true });
      this.forget(rel);
    }
    this.written.add(rel);
    switch (h.type) {
      case 'directory':
        // mkdir would filter the mode through the umask and drop set-id bits.
        if (!existing?.isDirectory()) mkdirSync(abs);
        chmodSync(abs, mode);
        this.dirs.add(rel);
        this.dirTimes.push([abs, h.mtime]);
        break;
      case 'file':
      case 'contiguous-file':
        await (h.size !== undefined && h.size <= SMALL_FILE ? writeSmallFile(abs, body, mode) : writeFileFrom(abs, body, mode));
        break;
      case 'symlink':
        symlinkSync(h.linkname, abs);
        break;
      case 'link':
        linkSync(join(this.root, safeRelative(h.linkname)), abs);
        break;
      case 'character-device':
      case 'block-device':
        await mknod(abs, h.type === 'character-device' ? 'c' : 'b', h.devmajor, h.devminor, mode);
        break;
      case 'fifo':
        await mkfifo(abs, mode);
        break;
      default:
        throw new LayerError(`layer entry ${h.name} has unsupported type ${String(h.type)}`);
    }
    await drain(body);
    if (h.type === 'link') return;
    const { mtime, type } = h;
    const { uid, gid } = this.owner ?? h;
    this.finishing.push(
      (async () => {
        // Created by root, so already 0:0. A chown drops set-id bits, which the mode then restores.
        if (uid !== 0 || gid !== 0) {
          await lchown(abs, uid, gid);
          if (type !== 'symlink' && mode & 0o6000) await chmod(abs, mode);
        }
        if (type === 'symlink') await lutimes(abs, mtime, mtime);
        else if (type !== 'directory') await utimes(abs, mtime, mtime);
      })(),
    );
  }

  async finish(): Promise<void> {
    await Promise.all(this.finishing);
    // Directory times last: writing their children changed them.
    for (const [path, mtime] of this.dirTimes.reverse()) await utimes(path, mtime, mtime).catch(() => undefined);
  }
}

/**
 * Unpacks a layer tar (gzip or plain) into `root` in overlay format: `.wh.name` becomes a 0:0
 * character device and `.wh..wh..opq` marks its directory opaque, so `root` can be a lower layer.
 * With `whiteouts: false` (ADD of an archive) those names are ordinary files, and `root` may
 * already hold files. Returns the size of the tar unpacked, which is about what it takes on disk.
 */
export async function extractLayer(source: NodeJS.ReadableStream, root: string, opts: { gzip: boolean; whiteouts?: boolean; owner?: { uid: number; gid: number } }): Promise<number> {
  const whiteouts = opts.whiteouts ?? true;
  const fresh = whiteouts && !(await lstat(root).catch(() => undefined));
  // A snapshot's top directory is the root of the filesystem steps see.
  if ((await mkdir(root, { recursive: true })) !== undefined) await chmod(root, 0o755);
  const x = new Extraction(root, fresh, whiteouts, opts.owner);
  // tar-stream loads when first needed (8 ms at start): a no-op build unpacks nothing.
  const ex = (await import('tar-stream')).extract();
  const fail = (err: Error): void => void ex.destroy(err);
  source.on('error', fail);
  let tar: NodeJS.ReadableStream = source;
  if (opts.gzip) {
    // Zlib's default 16 kB output chunks make the stream machinery, not inflating, the cost (5x slower).
    const gunzip = zlib().createGunzip({ chunkSize: 1 << 20 });
    gunzip.on('error', fail);
    tar = source.pipe(gunzip);
  }
  let bytes = 0;
  tar.on('data', (chunk: Buffer) => void (bytes += chunk.length));
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) await x.entry(entry.header, entry);
  await x.finish();
  return bytes;
}

/**
 * Metadata calls (mkdir, chmod, symlink, link) and small files are synchronous: each takes microseconds,
 * while a trip through libuv's four-thread pool queues behind the large writes and inflates that
 * share it, which made a layer of a few hundred symlinks take longer than a 30 MB one beside it.
 */
const SMALL_FILE = 64 << 10;

async function writeSmallFile(path: string, body: AsyncIterable<unknown>, mode: number): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  writeFileSync(path, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), { mode });
  // The mode as given, not as the umask left it.
  chmodSync(path, mode);
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

async function writeFileFrom(path: string, body: AsyncIterable<unknown>, mode: number): Promise<void> {
  const fh = await open(path, 'w', mode);
  try {
    for await (const chunk of body) await fh.write(chunk as Buffer);
  } finally {
    await fh.close();
  }
  // The mode as given, not as the umask left it.
  await chmod(path, mode);
}
