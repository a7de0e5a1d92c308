import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import { MediaType } from '../../oci/manifest.js';
import { findOpaqueDirs } from '../system/xattr.js';
import type { GzipMemberHints } from './gzip-member-hints.js';
import { gzipParallel } from './parallel-gzip.js';
import { diffTar } from './tar-writer.js';

export interface LayerOptions {
  /** SOURCE_DATE_EPOCH: no file time in the layer is later than this (seconds). */
  epoch?: number;
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
  return (async function* () {
    const opaque = await findOpaqueDirs(root);
    yield* diffTar(root, { opaque, ...(opts.epoch !== undefined ? { epoch: opts.epoch } : {}) });
  })();
}

/** Streams the tar of `root` into `sink` (which it ends) and returns the tar's sha256: the layer's diffID. */
export async function tarInto(root: string, sink: NodeJS.WritableStream & { writtenDigest?(): Digest }, opts: LayerOptions = {}): Promise<Digest> {
  if (sink.writtenDigest) {
    // The sink hashes what it receives: the tar is hashed once.
    await pipeline(tarDiff(root, opts), sink);
    return sink.writtenDigest();
  }
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

/**
 * An uncompressed layer tar (already hashed: its diffID is known) gzipped into a new blob. With
 * `hints`, members of unchanged chunks are taken from earlier compressed layers, and this one's are
 * remembered.
 */
async function gzipTar(tar: AsyncIterable<Buffer>, diffID: Digest, blobs: BlobStore, hints?: GzipMemberHints): Promise<LayerRecord> {
  const writer = blobs.writer();
  try {
    const { members } = await gzipParallel(tar, writer, { hash: false, ...(hints ? { reuse: hints.source(blobs) } : {}) });
    const { digest, size } = await writer.commit();
    hints?.remember(digest, members);
    return { digest, diffID, size, mediaType: MediaType.ociLayerGzip };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** The gzip-compressed form of an uncompressed layer blob, written to the blob store; `hints` as for `gzipTar`. */
export function gzipLayer(layer: LayerRecord, blobs: BlobStore, hints?: GzipMemberHints): Promise<LayerRecord> {
  return gzipTar(blobs.stream(layer.digest) as AsyncIterable<Buffer>, layer.diffID, blobs, hints);
}

/** Compresses a spooled layer tar into the blob store (and removes the spool file); `hints` as for `gzipTar`. */
export async function compressSpooled(path: string, diffID: Digest, blobs: BlobStore, hints?: GzipMemberHints): Promise<LayerRecord> {
  try {
    // The spool was hashed as it was written; it is ours and nothing else writes it.
    return await gzipTar(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, diffID, blobs, hints);
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
