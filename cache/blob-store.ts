import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { pipeline, Readable, Transform, type Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { Digest } from '../oci/digest.js';
import { ExpectedError } from '../oci/expected-error.js';
import type { Lease } from './lease.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** One blob as a collection sees it: `arrived` is when it last appeared, for the grace period. */
export interface BlobEntry extends BlobInfo {
  arrived: Date;
}

export class BlobError extends ExpectedError {}

/** An open blob: `read` fills `into` from `position` on and returns how many bytes it read (0 at the end). */
export interface BlobReader {
  read(into: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Receives one blob's bytes while hashing them. Nothing is visible until `commit`, which checks the
 * digest, adds the blob to the store's lease and only then publishes it; `abort` leaves nothing.
 */
export type BlobWriter = Writable & {
  commit(): Promise<BlobInfo>;
  abort(): Promise<void>;
  /** Bytes accepted so far (for resuming a download). */
  readonly writtenBytes: number;
  /** The sha256 of every byte written so far, where the backend hashes as it writes (so callers need not hash twice). */
  writtenDigest?(): Digest;
};

/**
 * Content-addressed blobs, wherever they live: `FsBlobStore` (the embedded cache, a directory),
 * `RegistryBlobStore` (a repository of an OCI registry). The coordinator's content service will be a
 * third backend once the farm has its gRPC API: it serves an `FsBlobStore` to workers that hold a
 * client implementing this same interface.
 *
 * No method hands out a location: readers get streams, and `exportTo` writes to a place the caller
 * chose (the filesystem backend links it there, the others copy).
 */
export interface BlobStore {
  /**
   * `list` works. The distribution API cannot enumerate a repository's blobs, so a registry store
   * cannot list: GC then removes only the blobs of the records it removes (see `prune`).
   */
  readonly canList: boolean;
  /** The same store, adding what it writes or holds to `lease`. */
  withLease(lease: Lease): BlobStore;
  /** The blob's size, or undefined when the store does not have it. */
  stat(digest: Digest): Promise<number | undefined>;
  /** Leases the blob, then says whether it is here: a true answer stays true until the lease ends. */
  hold(digest: Digest): Promise<boolean>;
  /** The blob's bytes; the stream fails at its end when they do not match the digest. Lazy: nothing is read until it is. */
  stream(digest: Digest): Readable;
  /** The same bytes without the digest check, for a reader that checks them itself: one hashing, not two. */
  unchecked?(digest: Digest): Readable;
  /** Random access to the blob's bytes, unchecked, for a reader that fills buffers of its own (the Content service). */
  openReader?(digest: Digest): Promise<BlobReader>;
  writer(expected?: Digest): BlobWriter;
  /**
   * A file of the caller's whose digest is known, stored straight from the file where the backend
   * checks the digest on its side (the Content service): no spool. `putFile` uses it when present.
   */
  putFile?(path: string, digest: Digest): Promise<BlobInfo>;
  /**
   * Where the backend has one call for many small blobs (the Content service): those of `digests` it
   * sent, each checked against its digest. The caller streams the rest one by one.
   */
  getBlobs?(digests: Digest[]): Promise<Map<Digest, Buffer>>;
  /**
   * Takes the file at `path`, synced, which the caller gives up, as the blob `digest` once its bytes
   * hash to it: linked into place where the backend can (the filesystem), so that they are not written
   * again. The caller removes its own name for the file afterwards, and never changes the file.
   */
  adoptFile?(path: string, digest: Digest): Promise<BlobInfo>;
  /** Removes the blob; false when it was not there. */
  delete(digest: Digest): Promise<boolean>;
  /** Every blob, with size and arrival time. Throws unless `canList`. */
  list(): AsyncIterable<BlobEntry>;
  /** Writes the blob to `dest` (a new file the caller chose). It may share storage with the store: treat it as read-only. */
  exportTo(digest: Digest, dest: string): Promise<void>;
}

/** Writes `data` as one blob, checked against `expected` when given. */
export async function putBlob(store: BlobStore, data: Uint8Array | string, expected?: Digest): Promise<BlobInfo> {
  const w = store.writer(expected);
  w.end(typeof data === 'string' ? Buffer.from(data) : data);
  return w.commit();
}

/** The failure of bytes written as `expected` that hash to `actual`. */
export const digestMismatch = (expected: Digest, actual: Digest): BlobError => new BlobError(`content does not match its digest: expected ${expected}, got ${actual}`);

/** One blob from `from` into `to`, its digest checked when `to` commits it. */
export async function copyBlob(from: BlobStore, to: BlobStore, digest: Digest): Promise<BlobInfo> {
  const w = to.writer(digest);
  try {
    await pipelineAsync(from.stream(digest), w);
  } catch (err) {
    await w.abort();
    throw err;
  }
  return w.commit();
}

/** Writes the file at `path` (a file of the caller's) as one blob, checked against `expected` when given; nothing is left on failure. */
export async function putFile(store: BlobStore, path: string, expected?: Digest): Promise<BlobInfo> {
  if (expected !== undefined && store.putFile) return store.putFile(path, expected);
  const w = store.writer(expected);
  try {
    await pipelineAsync(createReadStream(path, { highWaterMark: 1 << 20 }), w);
    return await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** A whole (small) blob, checked against its digest. */
export async function readBlob(store: BlobStore, digest: Digest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.stream(digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A pass-through that fails at its end when what went through does not hash to `digest`. */
export function verifying(digest: Digest): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = `sha256:${hash.digest('hex')}`;
      done(actual === digest ? null : new BlobError(`blob ${digest} is corrupt (content hashes to ${actual})`));
    },
  });
}

/**
 * `src` through `verifying(digest)`. A failing source fails the result, and a reader that stops early
 * closes the source (a file, a connection).
 */
export function verified(digest: Digest, src: Readable): Readable {
  const verify = verifying(digest);
  pipeline(src, verify, () => undefined); // errors reach the reader through `verify`
  return verify;
}

/** A verified stream of what `open` gives, opened on first read. */
export function lazyVerified(digest: Digest, open: () => Promise<AsyncIterable<Buffer>>): Readable {
  const src = Readable.from(
    (async function* () {
      yield* await open();
    })(),
    { objectMode: false },
  );
  return verified(digest, src);
}

/** `exportTo` for stores that hold no file to link: the blob's verified bytes, copied to `dest` only once complete. */
export async function copyBlobTo(store: Pick<BlobStore, 'stream'>, digest: Digest, dest: string): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    await pipelineAsync(store.stream(digest), createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    await rename(tmp, dest);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
