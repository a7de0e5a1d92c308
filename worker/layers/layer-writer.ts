import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import { MediaType } from '../../oci/manifest.js';
import { findOpaqueDirs } from '../system/xattr.js';
import { FollowedSpool } from './followed-spool.js';
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
 * Writes the tar of `root` to a spool file that its gzip compression reads as it grows: returns the
 * diffID once the tar is written, the cheap part of committing a layer, after which the snapshot can be
 * used; `record` settles once the compressed blob is in the store. The spool goes either way. With
 * `hints`, members of unchanged chunks are taken from earlier compressed layers (see `gzipLayer`).
 */
export async function spoolCompressed(root: string, tmpDir: string, blobs: BlobStore, hints?: GzipMemberHints, opts: LayerOptions = {}): Promise<{ diffID: Digest; record: Promise<LayerRecord> }> {
  const spool = await FollowedSpool.create(join(tmpDir, `layer-${process.pid}-${randomBytes(6).toString('hex')}.tar`));
  const compressed = gzipBlob(spool.read(), blobs, hints).finally(() => rm(spool.path, { force: true }));
  compressed.catch(() => undefined); // reported through `record`, or under the tar's own failure
  let diffID: Digest;
  try {
    diffID = await tarInto(root, spool.writable(), opts);
  } catch (err) {
    await compressed.catch(() => undefined);
    throw err;
  }
  return { diffID, record: compressed.then(({ digest, size }) => ({ digest, diffID, size, mediaType: MediaType.ociLayerGzip })) };
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
 * An uncompressed layer tar gzipped into a new blob. With `hints`, members of unchanged chunks are
 * taken from earlier compressed layers, and this one's are remembered.
 */
async function gzipBlob(tar: AsyncIterable<Buffer>, blobs: BlobStore, hints?: GzipMemberHints): Promise<{ digest: Digest; size: number }> {
  const writer = blobs.writer();
  try {
    const { members } = await gzipParallel(tar, writer, { hash: false, ...(hints ? { reuse: hints.source(blobs) } : {}) });
    const blob = await writer.commit();
    hints?.remember(blob.digest, members);
    return blob;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** The gzip-compressed form of an uncompressed layer blob, written to the blob store; `hints` as for `gzipBlob`. */
export async function gzipLayer(layer: LayerRecord, blobs: BlobStore, hints?: GzipMemberHints): Promise<LayerRecord> {
  const { digest, size } = await gzipBlob(blobs.stream(layer.digest) as AsyncIterable<Buffer>, blobs, hints);
  return { digest, diffID: layer.diffID, size, mediaType: MediaType.ociLayerGzip };
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
