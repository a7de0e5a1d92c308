import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { BlobError, putBlob, putFile, type BlobStore } from '../../cache/blob-store.js';
import { isDigest, type Digest } from '../../oci/digest.js';
import { forEachLimited } from '../../oci/for-each-limited.js';
import type { ContentHandlers } from '../../proto/generated/dockyard/v1/Content.js';
import type { DownloadResponse } from '../../proto/generated/dockyard/v1/DownloadResponse.js';
import type { UploadRequest__Output } from '../../proto/generated/dockyard/v1/UploadRequest.js';
import { loadDockyardProto } from '../../proto/load.js';
import type { GrpcService } from '../../proto/transport.js';
import { DownloadBuffers, serializeDownload } from './download-buffers.js';
import { UploadConflict, UploadSpool, type UploadSession } from './upload-spool.js';

/** Data messages of a download carry about this much (the last one less). */
export const DOWNLOAD_CHUNK_BYTES = 1 << 20;
/** Chunks one download reads ahead of what grpc-js has taken. */
const DOWNLOAD_BUFFERS = 4;

/** One Upload or Download call as it ended: for metrics (bytes moved) and for tests. */
export interface ContentTransfer {
  direction: 'upload' | 'download';
  digest: Digest;
  /** Where the call started in the blob. */
  offset: number;
  /** Bytes this call moved (an upload: appended to the spool; a download: sent). */
  bytes: number;
  /** The upload committed the blob, or the download sent its end. */
  complete: boolean;
}

export interface ContentServiceOptions {
  /** Where partial uploads wait for their rest: the caller's (the coordinator's cache directory), so that nothing is left elsewhere. */
  spoolDir: string;
  /** A partial upload nobody continued for this long is removed (default 1 hour). */
  staleMs?: number;
  onTransfer?: (t: ContentTransfer) => void;
}

/** A request this service cannot take (a malformed digest, an upload out of order): INVALID_ARGUMENT. */
class BadRequest extends Error {}

/** A one-line status for the client. */
const status = (code: grpc.status, details: string): Partial<grpc.StatusObject> => ({ code, details: details.split('\n')[0]! });

/** How a store's error reads to a client: a missing blob, bad content, or something on our side. */
function storeStatus(err: unknown, digest: string): Partial<grpc.StatusObject> {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return status(grpc.status.NOT_FOUND, `blob ${digest} not found`);
  if (err instanceof UploadConflict) return status(grpc.status.ABORTED, err.message);
  if (err instanceof BadRequest) return status(grpc.status.INVALID_ARGUMENT, err.message);
  if (err instanceof BlobError) return status(/does not match|is corrupt/.test(err.message) ? grpc.status.DATA_LOSS : grpc.status.FAILED_PRECONDITION, err.message);
  return status(grpc.status.INTERNAL, `the coordinator's store failed on ${digest}: ${(err as Error).message}`);
}

function checkDigest(digest: string): Digest {
  if (!isDigest(digest)) throw new BadRequest(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return digest;
}

/** GetBlobs returns blobs of at most this size, */
export const GET_BLOBS_MAX_BLOB = 256 << 10;
/** and stops adding blobs to a response once it holds this many bytes. */
export const GET_BLOBS_MAX_TOTAL = 4 << 20;

/** A whole blob of `size` bytes, unchecked: the receiver checks the digest. */
async function readWhole(store: BlobStore, digest: Digest, size: number): Promise<Buffer> {
  if (!store.openReader) {
    const chunks: Buffer[] = [];
    for await (const c of store.unchecked ? store.unchecked(digest) : store.stream(digest)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  const reader = await store.openReader(digest);
  try {
    const out = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; ) {
      const n = await reader.read(out.subarray(at), at);
      if (n === 0) throw new Error(`blob ${digest} ends at ${at} of its ${size} bytes`);
      at += n;
    }
    return out;
  } finally {
    await reader.close();
  }
}

/** Stats `digests` a few at a time, in order. */
async function statAll(store: BlobStore, digests: Digest[]): Promise<(number | undefined)[]> {
  const sizes: (number | undefined)[] = new Array(digests.length);
  await forEachLimited(digests, 16, async (d, i) => {
    sizes[i] = await store.stat(d);
  });
  return sizes;
}

/**
 * The blob's bytes from `from` to `size` in chunks of DOWNLOAD_CHUNK_BYTES: read into the few buffers
 * of a `DownloadBuffers` where the store can read into them, else gathered from its stream. A
 * cancelled call stops the wait for a free buffer.
 */
async function* storeChunks(store: BlobStore, digest: Digest, from: number, size: number, cancelled: Promise<undefined>): AsyncGenerator<Buffer> {
  if (!store.openReader) {
    // The receiver checks the digest; checking here as well would hash every download twice.
    const src = store.unchecked ? store.unchecked(digest) : store.stream(digest);
    try {
      yield* gathered(src, DOWNLOAD_CHUNK_BYTES, from);
    } finally {
      src.destroy();
    }
    return;
  }
  const reader = await store.openReader(digest);
  // A context's files are mostly far smaller than a chunk: buffers of their size, not 1 MiB each.
  const buffers = new DownloadBuffers(DOWNLOAD_BUFFERS, Math.min(DOWNLOAD_CHUNK_BYTES, size - from));
  try {
    for (let at = from; at < size; ) {
      const into = await Promise.race([buffers.take(), cancelled]);
      if (!into) return;
      const n = await reader.read(into.subarray(0, Math.min(DOWNLOAD_CHUNK_BYTES, size - at)), at);
      if (n === 0) throw new Error(`blob ${digest} ends at ${at} of its ${size} bytes`);
      yield into.subarray(0, n);
      at += n;
    }
  } finally {
    await reader.close();
  }
}

/** `src` regrouped into buffers of `size` bytes (the last one shorter), from `skip` bytes on. */
async function* gathered(src: Readable, size: number, skip: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let toSkip = skip;
  for await (const part of src) {
    let buf = part as Buffer;
    if (toSkip > 0) {
      const n = Math.min(toSkip, buf.length);
      toSkip -= n;
      buf = buf.subarray(n);
    }
    while (buf.length > 0) {
      const take = Math.min(size - pendingBytes, buf.length);
      pending.push(buf.subarray(0, take));
      pendingBytes += take;
      buf = buf.subarray(take);
      if (pendingBytes === size) {
        yield pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/**
 * The Content service over `store`: what the coordinator gives workers and clients of its shared
 * cache. Uploads are spooled here, keyed by digest, until complete; only then do they enter the
 * store, which checks the digest (adopting the spool file where it can, else through its writer), so a
 * wrong or partial upload is never visible. An
 * upload that broke resumes at the spooled length (`Stat.upload_offset`). Downloads start at any
 * offset and send the next chunk only once the previous one is on its way (HTTP/2 flow control).
 */
export function contentService(store: BlobStore, opts: ContentServiceOptions): GrpcService & { handlers: ContentHandlers; spool: UploadSpool } {
  const staleMs = opts.staleMs ?? 3_600_000;
  const spool = new UploadSpool(opts.spoolDir, staleMs);
  const report = opts.onTransfer ?? (() => undefined);
  let lastSweep = 0;
  const maybeSweep = (): void => {
    const now = Date.now();
    if (now - lastSweep < Math.min(staleMs / 4, 60_000)) return;
    lastSweep = now;
    void spool.sweep(now).catch(() => undefined);
  };

  const handlers: ContentHandlers = {
    FindMissing: (call, callback) => {
      void (async () => {
        const digests = [...new Set(call.request.digests)].map(checkDigest);
        const sizes = await statAll(store, digests);
        callback(null, { missing: digests.filter((_, i) => sizes[i] === undefined) });
      })().catch((err: unknown) => callback(storeStatus(err, 'a listed blob')));
    },

    Stat: (call, callback) => {
      maybeSweep();
      void (async () => {
        const digest = checkDigest(call.request.digest);
        const size = await store.stat(digest);
        callback(null, { exists: size !== undefined, size: size ?? 0, uploadOffset: size === undefined ? spool.offset(digest) : 0 });
      })().catch((err: unknown) => callback(storeStatus(err, call.request.digest)));
    },

    Upload: (call, callback) => {
      maybeSweep();
      let session: UploadSession | undefined;
      let header: { digest: Digest; size: number; offset: number } | undefined;
      void (async () => {
        for await (const msg of call as AsyncIterable<UploadRequest__Output>) {
          if (!header) {
            if (msg.part !== 'header' || !msg.header) throw new BadRequest('an upload starts with its header');
            const h = msg.header;
            header = { digest: checkDigest(h.digest), size: h.size, offset: h.offset };
            if (header.offset > header.size) throw new BadRequest(`upload of ${header.digest} starts at ${header.offset}, beyond its size ${header.size}`);
            session = await spool.begin(header.digest, header.offset);
            continue;
          }
          if (msg.part !== 'data' || !msg.data) throw new BadRequest(`upload of ${header.digest}: a second header`);
          if (session!.length + msg.data.length > header.size) {
            await spool.discard(header.digest);
            throw new BadRequest(`upload of ${header.digest} exceeds its size ${header.size}`);
          }
          await session!.append(msg.data);
        }
        if (!header) throw new BadRequest('an upload starts with its header');
        const { digest, size } = header;
        if (session!.length < size) throw new UploadConflict(`upload of ${digest} ended at ${session!.length} of ${size} bytes: resume at ${session!.length}`);
        await session!.finish(
          async (path) => void (await (store.adoptFile ? store.adoptFile(path, digest) : putFile(store, path, digest))),
          (err) => !(err instanceof BlobError),
        );
        return { digest, size };
      })().then(
        (res) => {
          report({ direction: 'upload', digest: res.digest, offset: header!.offset, bytes: session!.received, complete: true });
          callback(null, res);
        },
        (err: unknown) => {
          if (header) report({ direction: 'upload', digest: header.digest, offset: header.offset, bytes: session?.received ?? 0, complete: false });
          if (!call.cancelled) callback(storeStatus(err, header?.digest ?? 'an upload'));
        },
      ).finally(() => session?.close());
    },

    PutBlobs: (call, callback) => {
      // The first blob that failed, for the status.
      let failed: { digest: string; err: unknown } | undefined;
      void (async () => {
        const blobs = call.request.blobs.map((b) => ({ digest: checkDigest(b.digest), data: b.data }));
        await forEachLimited(blobs, 16, async ({ digest, data }) => {
          try {
            if ((await store.stat(digest)) === undefined) await putBlob(store, data, digest);
          } catch (err) {
            failed ??= { digest, err };
            throw err;
          }
          report({ direction: 'upload', digest, offset: 0, bytes: data.length, complete: true });
        });
      })().then(
        () => callback(null, {}),
        (err: unknown) => callback(storeStatus(failed?.err ?? err, failed?.digest ?? 'a blob')),
      );
    },

    GetBlobs: (call, callback) => {
      void (async () => {
        const digests = call.request.digests.map(checkDigest);
        const sizes = await statAll(store, digests);
        // The blobs that fit, in the order asked; the caller downloads the others.
        const chosen: { digest: Digest; size: number }[] = [];
        let total = 0;
        digests.forEach((digest, i) => {
          const size = sizes[i];
          if (size === undefined || size > GET_BLOBS_MAX_BLOB || total + size > GET_BLOBS_MAX_TOTAL) return;
          chosen.push({ digest, size });
          total += size;
        });
        const data: Buffer[] = new Array(chosen.length);
        await forEachLimited(chosen, 16, async ({ digest, size }, i) => {
          data[i] = await readWhole(store, digest, size);
          report({ direction: 'download', digest, offset: 0, bytes: size, complete: true });
        });
        callback(null, { blobs: chosen.map(({ digest }, i) => ({ digest, data: data[i]! })) });
      })().catch((err: unknown) => callback(storeStatus(err, 'a requested blob')));
    },

    Download: (call) => {
      const { offset } = call.request;
      let sent = 0;
      let digest: Digest | undefined;
      void (async () => {
        digest = checkDigest(call.request.digest);
        const size = await store.stat(digest);
        if (size === undefined) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
        if (offset > size) throw new BadRequest(`download of ${digest} from ${offset}, beyond its size ${size}`);
        // Only a full send buffer waits here (for 'drain'); storeChunks reads the next chunk meanwhile.
        const send = async (msg: DownloadResponse): Promise<void> => {
          if (call.write(msg)) return;
          await new Promise<void>((resolve) => {
            const done = (): void => {
              call.off('drain', done).off('cancelled', done);
              resolve();
            };
            call.once('drain', done).once('cancelled', done);
          });
        };
        const cancelled = new Promise<undefined>((resolve) => call.once('cancelled', () => resolve(undefined)));
        let at = offset;
        if (offset === size) await send({ size, offset, data: Buffer.alloc(0) }); // the size, and the end
        else {
          for await (const data of storeChunks(store, digest, offset, size, cancelled)) {
            if (call.cancelled) return false;
            await send({ size, offset: at, data });
            at += data.length;
            sent += data.length;
          }
        }
        if (call.cancelled) return false;
        call.end();
        return true;
      })().then(
        (complete) => report({ direction: 'download', digest: digest!, offset, bytes: sent, complete }),
        (err: unknown) => {
          if (digest) report({ direction: 'download', digest, offset, bytes: sent, complete: false });
          if (!call.cancelled) call.emit('error', storeStatus(err, digest ?? call.request.digest));
        },
      );
    },
  };
  const service = loadDockyardProto().dockyard.v1.Content.service;
  const definition = { ...service, Download: { ...service.Download, responseSerialize: serializeDownload(service.Download.responseSerialize) } };
  return { definition, handlers, spool };
}
