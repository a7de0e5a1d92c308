import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { pack as tarPack, type Header } from 'tar-stream';
import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import { MediaType } from '../../oci/manifest.js';
import { findOpaqueDirs } from '../system/xattr.js';
import { gzipParallel } from './parallel-gzip.js';

export interface LayerOptions {
  /** SOURCE_DATE_EPOCH: no file time in the layer is later than this (seconds). */
  epoch?: number;
}

type TarHeader = Partial<Header> & Pick<Header, 'name'>;

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: Math.floor(rdev / 256) & 0xfff, devminor: (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff & 0xfffff) };
}

/** True when the directory holds nothing: the step changed nothing. */
export async function isEmptyDiff(root: string): Promise<boolean> {
  return (await readdir(root)).length === 0;
}

/**
 * Streams an overlay upper directory as an OCI layer tar: whiteout devices become `.wh.` entries and
 * opaque directories get `.wh..wh..opq`. Entries are sorted and owners numeric, so equal trees give
 * equal bytes.
 */
export function tarDiff(root: string, opts: LayerOptions = {}): AsyncIterable<Buffer> {
  const pack = tarPack();
  const clamp = (d: Date): Date => (opts.epoch !== undefined && d.getTime() > opts.epoch * 1000 ? new Date(opts.epoch * 1000) : d);
  const seenInodes = new Map<string, string>();

  const add = (header: TarHeader, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));

  const addFile = (header: TarHeader, path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      const src = createReadStream(path, { highWaterMark: 1 << 20 });
      src.on('error', reject);
      src.pipe(entry);
    });

  const walk = async (dir: string, opaque: Set<string>): Promise<void> => {
    const names = (await readdir(join(root, dir))).sort(byteOrder);
    const stats = await Promise.all(names.map((n) => lstat(join(root, dir, n))));
    // Read small files a few ahead of the one being written: the tar is sequential, the disk need not be.
    const reads: (Promise<Buffer> | undefined)[] = [];
    const prefetch = (from: number): void => {
      for (let j = from; j < Math.min(from + 16, names.length); j++) {
        const st = stats[j]!;
        if (!reads[j] && st.isFile() && st.size < 1 << 20 && !(st.nlink > 1 && seenInodes.has(`${st.dev}:${st.ino}`))) reads[j] = readFile(join(root, dir, names[j]!));
      }
    };
    for (const [i, name] of names.entries()) {
      prefetch(i);
      const rel = dir === '' ? name : `${dir}/${name}`;
      const abs = join(root, rel);
      const st = stats[i]!;
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: clamp(st.mtime), uname: '', gname: '' };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await add({ ...base, name: dir === '' ? `.wh.${name}` : `${dir}/.wh.${name}`, type: 'file', mode: 0, size: 0 });
      } else if (st.isDirectory()) {
        await add({ ...base, name: rel + '/', type: 'directory' });
        if (opaque.has(rel)) await add({ ...base, name: `${rel}/.wh..wh..opq`, type: 'file', mode: 0, size: 0 });
        await walk(rel, opaque);
      } else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seenInodes.get(inode) : undefined;
        if (first !== undefined) {
          await add({ ...base, name: rel, type: 'link', linkname: first, size: 0 });
          continue;
        }
        if (st.nlink > 1) seenInodes.set(inode, rel);
        const body = reads[i];
        reads[i] = undefined;
        if (body) await add({ ...base, name: rel, type: 'file', size: st.size }, await body);
        else await addFile({ ...base, name: rel, type: 'file', size: st.size }, abs);
      } else if (st.isSymbolicLink()) {
        await add({ ...base, name: rel, type: 'symlink', linkname: await readlink(abs) });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await add({ ...base, name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
      } else if (st.isFIFO()) {
        await add({ ...base, name: rel, type: 'fifo' });
      }
      // Sockets cannot be stored in a tar and are left out, as in BuildKit.
    }
  };

  findOpaqueDirs(root)
    .then((opaque) => walk('', opaque))
    .then(
      () => pack.finalize(),
      (err: Error) => pack.destroy(err),
    );
  return pack as AsyncIterable<Buffer>;
}

/** Streams the tar of `root` into `sink` (which it ends) and returns the tar's sha256: the layer's diffID. */
export async function tarInto(root: string, sink: NodeJS.WritableStream, opts: LayerOptions = {}): Promise<Digest> {
  const hash = createHash('sha256');
  await pipeline(
    tarDiff(root, opts),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    sink,
  );
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Writes the tar of `root` to a temporary file and returns its diffID: the cheap part of committing a
 * layer, after which the snapshot can be used while `compressSpooled` runs in the background.
 */
export async function spoolLayer(root: string, tmpDir: string, opts: LayerOptions = {}): Promise<{ diffID: Digest; path: string }> {
  const path = join(tmpDir, `layer-${process.pid}-${randomBytes(6).toString('hex')}.tar`);
  try {
    return { diffID: await tarInto(root, createWriteStream(path), opts), path };
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

/**
 * Writes the tar of `root` into the blob store uncompressed, in one pass: its digest is its diffID.
 * Returns the diffID as soon as the tar is written; `record` settles once the blob is synced and
 * published. A layer stored this way is compressed only if an image needs it (`gzipLayer`).
 */
export async function storeUncompressed(root: string, blobs: BlobStore, opts: LayerOptions = {}): Promise<{ diffID: Digest; record: Promise<LayerRecord> }> {
  const writer = blobs.writer();
  let diffID: Digest;
  try {
    diffID = await tarInto(root, writer, opts);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const record = writer.commit().then(({ digest, size }) => ({ digest, diffID, size, mediaType: MediaType.ociLayer, gzipOnExport: true as const }));
  return { diffID, record };
}

/** The gzip-compressed form of an uncompressed layer blob, written to the blob store. */
export async function gzipLayer(layer: LayerRecord, blobs: BlobStore): Promise<LayerRecord> {
  const writer = blobs.writer();
  try {
    await gzipParallel(blobs.stream(layer.digest) as AsyncIterable<Buffer>, writer, { hash: false });
    const { digest, size } = await writer.commit();
    return { digest, diffID: layer.diffID, size, mediaType: MediaType.ociLayerGzip };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Compresses a spooled layer tar into the blob store (and removes the spool file). */
export async function compressSpooled(path: string, diffID: Digest, blobs: BlobStore): Promise<LayerRecord> {
  const writer = blobs.writer();
  try {
    // The spool was hashed as it was written; it is ours and nothing else writes it.
    await gzipParallel(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, writer, { hash: false });
    const { digest, size } = await writer.commit();
    return { digest, diffID, size, mediaType: MediaType.ociLayerGzip };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await rm(path, { force: true });
  }
}

/** Writes the diff in `root` to the blob store as a gzip-compressed OCI layer, in one pass. */
export async function writeLayer(root: string, blobs: BlobStore, opts: LayerOptions = {}): Promise<LayerRecord> {
  const writer = blobs.writer();
  try {
    const { diffID } = await gzipParallel(tarDiff(root, opts), writer);
    const { digest, size } = await writer.commit();
    return { digest, diffID, size, mediaType: MediaType.ociLayerGzip };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
