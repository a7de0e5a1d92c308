import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { isDigest, sha256, type Digest } from '../oci/digest.js';
import type { ContentClient } from '../proto/generated/dockyard/v1/Content.js';
import type { DownloadResponse__Output } from '../proto/generated/dockyard/v1/DownloadResponse.js';
import type { FindMissingRequest } from '../proto/generated/dockyard/v1/FindMissingRequest.js';
import type { FindMissingResponse__Output } from '../proto/generated/dockyard/v1/FindMissingResponse.js';
import type { GetBlobsRequest } from '../proto/generated/dockyard/v1/GetBlobsRequest.js';
import type { GetBlobsResponse__Output } from '../proto/generated/dockyard/v1/GetBlobsResponse.js';
import type { PutBlobsRequest } from '../proto/generated/dockyard/v1/PutBlobsRequest.js';
import type { PutBlobsResponse__Output } from '../proto/generated/dockyard/v1/PutBlobsResponse.js';
import type { StatRequest } from '../proto/generated/dockyard/v1/StatRequest.js';
import type { StatResponse__Output } from '../proto/generated/dockyard/v1/StatResponse.js';
import { loadDockyardProto } from '../proto/load.js';
import { trace } from '../oci/trace.js';
import { dialOptions, type DialOptions } from '../proto/transport.js';
import { BlobSpool } from './blob-spool.js';
import { BlobError, copyBlob, copyBlobTo, verified, type BlobEntry, type BlobInfo, type BlobReader, type BlobStore, type BlobWriter } from './blob-store.js';
import type { Lease } from './lease.js';

export interface ContentBlobStoreOptions {
  lease?: Lease;
  /** Where writes are spooled before they are uploaded: the caller's, so that nothing is left in the system's temporary folder. */
  scratchDir: string;
}

/** Attempts in a row that move no byte before a transfer gives up. */
const ATTEMPTS_WITHOUT_PROGRESS = 6;
/** Unary calls that take longer are failed (and retried): a stuck connection must not hang a build. */
const UNARY_DEADLINE_MS = 60_000;
/** Digests per FindMissing call, well below the message size limit. */
const FIND_MISSING_BATCH = 8192;
const UPLOAD_CHUNK_BYTES = 1 << 20;

/** A call that may succeed when made again: a broken connection, a server restarting, an upload taken over. */
function retryable(err: unknown): boolean {
  const code = (err as Partial<grpc.ServiceError>).code;
  return code === grpc.status.UNAVAILABLE || code === grpc.status.ABORTED || code === grpc.status.CANCELLED || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN;
}

/**
 * Blobs in the coordinator's store, through its Content service: what a worker or a client holds in
 * place of the store itself. Reads are verified against the digest and resume where a broken stream
 * stopped; writes are spooled locally (so that nothing is sent before the digest is known and
 * checked), then uploaded from the offset the coordinator already holds, resuming the same way.
 *
 * Leases: the coordinator is the only process that collects the shared store, and it keeps its
 * builds' leases itself. A build leases every blob it hands to a worker (the inputs of a step) before
 * the worker reads it, and a worker's or client's upload is new content, which a collection spares
 * for its grace period, long enough for the build to lease it when the result (or the submission)
 * arrives. So this backend needs no lease of its own, and `hold`/`withLease` do what they do on every
 * backend with the `Lease` they are given: add the blob to it first, then check that it exists. A
 * caller that can reach the coordinator's lease manager (its Redis) gets the full guarantee; without
 * a lease, `hold` is `stat`.
 *
 * The Content service deletes nothing and lists nothing: the coordinator's garbage collection works
 * on its store directly. `delete` fails with a one-line BlobError; `canList` is false.
 */
export class ContentBlobStore implements BlobStore {
  readonly canList = false;
  private readonly client: ContentClient;
  private readonly scratch: string;
  private readonly lease: Lease | undefined;

  constructor(
    private readonly address: string,
    private readonly dial: DialOptions,
    opts: ContentBlobStoreOptions,
    client?: ContentClient,
  ) {
    if (client) this.client = client;
    else {
      const { credentials, options } = dialOptions(dial);
      this.client = new (loadDockyardProto().dockyard.v1.Content)(address, credentials, options);
    }
    this.scratch = opts.scratchDir;
    mkdirSync(this.scratch, { recursive: true });
    this.lease = opts.lease;
  }

  withLease(lease: Lease): ContentBlobStore {
    return new ContentBlobStore(this.address, this.dial, { scratchDir: this.scratch, lease }, this.client);
  }

  /** Closes the connection; every store made by `withLease` from this one shares it. */
  close(): void {
    this.client.close();
  }

  /** A failed call as one line naming the coordinator. */
  private failure(err: unknown, what: string): BlobError {
    if (err instanceof BlobError) return err;
    const e = err as Partial<grpc.ServiceError>;
    // grpc-js appends an empty "Resolution note:" to connection failures.
    const details = (e.details ?? e.message ?? String(err)).split('\n')[0]!.replace(/\.?\s*Resolution note:\s*$/, '');
    return new BlobError(`content service ${this.address}: ${what}: ${details}`);
  }

  private check(digest: Digest): Digest {
    if (!isDigest(digest)) throw new BlobError(`not a sha256 digest: ${digest}`);
    return digest;
  }

  private unary<Req, Res>(method: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall, req: Req): Promise<Res> {
    return new Promise((resolve, reject) =>
      method.call(this.client, req, new grpc.Metadata(), { deadline: Date.now() + UNARY_DEADLINE_MS }, (err, res) => (err ? reject(err) : resolve(res!))),
    );
  }

  /** `fn` again after a retryable failure, a few times, with a growing pause. */
  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!retryable(err) || attempt >= ATTEMPTS_WITHOUT_PROGRESS) throw this.failure(err, what);
        await sleep(backoff(attempt));
      }
    }
  }

  private statCall(digest: Digest): Promise<StatResponse__Output> {
    return this.retrying(`stat ${digest}`, () => this.unary<StatRequest, StatResponse__Output>(this.client.Stat, { digest }));
  }

  async stat(digest: Digest): Promise<number | undefined> {
    const res = await this.statCall(this.check(digest));
    return res.exists ? res.size : undefined;
  }

  async hold(digest: Digest): Promise<boolean> {
    this.check(digest);
    await this.lease?.add([{ kind: 'blob', digest }]);
    return (await this.stat(digest)) !== undefined;
  }

  /** Which of `digests` the coordinator's store lacks, each once, in the order given. */
  async findMissing(digests: Digest[]): Promise<Digest[]> {
    const unique = [...new Set(digests.map((d) => this.check(d)))];
    const missing: Digest[] = [];
    for (let i = 0; i < unique.length; i += FIND_MISSING_BATCH) {
      const batch = unique.slice(i, i + FIND_MISSING_BATCH);
      const res = await this.retrying('find missing blobs', () => this.unary<FindMissingRequest, FindMissingResponse__Output>(this.client.FindMissing, { digests: batch }));
      const absent = new Set(res.missing);
      missing.push(...batch.filter((d) => absent.has(d)));
    }
    return missing;
  }

  /**
   * Small blobs in one call (PutBlobs), which the coordinator checks against their digests: for a
   * context's many small files, where a call per file costs more than its bytes.
   */
  async putBlobs(blobs: { digest: Digest; data: Buffer }[]): Promise<void> {
    for (const b of blobs) this.check(b.digest);
    await this.lease?.add(blobs.map((b) => ({ kind: 'blob' as const, digest: b.digest })));
    await this.retrying(`upload ${blobs.length} small blobs`, () => this.unary<PutBlobsRequest, PutBlobsResponse__Output>(this.client.PutBlobs, { blobs }));
  }

  /**
   * Those of `digests` the coordinator sends in one call (GetBlobs: small ones, up to a total it
   * chooses), each checked against its digest; the caller downloads the rest.
   */
  async getBlobs(digests: Digest[]): Promise<Map<Digest, Buffer>> {
    const asked = new Set(digests.map((d) => this.check(d)));
    const res = await this.retrying(`download ${digests.length} small blobs`, () => this.unary<GetBlobsRequest, GetBlobsResponse__Output>(this.client.GetBlobs, { digests }));
    const got = new Map<Digest, Buffer>();
    for (const { digest, data } of res.blobs) {
      const d = digest as Digest;
      if (!asked.has(d)) throw new BlobError(`content service ${this.address}: sent ${digest}, which was not asked for`);
      const actual = sha256(data);
      if (actual !== d) throw new BlobError(`content service ${this.address}: blob ${d} is corrupt (content hashes to ${actual})`);
      got.set(d, data);
    }
    return got;
  }

  /** The blob's bytes, from `offset` on, reopening the download where a broken one stopped. */
  private async *download(digest: Digest): AsyncGenerator<Buffer> {
    let offset = 0;
    let size: number | undefined;
    let failures = 0;
    for (;;) {
      trace(`content: download ${digest.slice(7, 19)} from ${offset}`);
      const call = this.client.Download({ digest, offset });
      try {
        for await (const msg of call as AsyncIterable<DownloadResponse__Output>) {
          if (msg.offset !== offset) throw new BlobError(`content service ${this.address}: download of ${digest} sent offset ${msg.offset}, expected ${offset}`);
          size = msg.size;
          if (msg.data.length === 0) continue;
          offset += msg.data.length;
          failures = 0;
          yield msg.data;
        }
        if (size !== undefined && offset >= size) {
          trace(`content: last byte of ${digest.slice(7, 19)}`);
          return;
        }
        // Ended early without an error: a server going away. Go on from here.
        failures++;
        if (failures >= ATTEMPTS_WITHOUT_PROGRESS) throw new BlobError(`content service ${this.address}: download of ${digest} keeps ending at ${offset} of ${size ?? '?'} bytes`);
      } catch (err) {
        if (err instanceof BlobError || !retryable(err) || ++failures >= ATTEMPTS_WITHOUT_PROGRESS) throw this.failure(err, `download ${digest}`);
      } finally {
        call.cancel();
      }
      await sleep(backoff(failures));
    }
  }

  stream(digest: Digest): Readable {
    return verified(digest, this.unchecked(digest));
  }

  unchecked(digest: Digest): Readable {
    this.check(digest);
    return Readable.from(this.download(digest), { objectMode: false });
  }

  writer(expected?: Digest): BlobWriter {
    if (expected !== undefined) this.check(expected);
    const tmp = join(this.scratch, `blob-${process.pid}-${randomBytes(6).toString('hex')}`);
    return new BlobSpool(tmp, expected, async (file, { digest, size }) => {
      // Leased before it appears, as on every backend.
      await this.lease?.add([{ kind: 'blob', digest }]);
      await this.upload(fromFile(file), digest, size);
    });
  }

  /**
   * A file of the caller's whose digest is known, uploaded from the file itself: no spool, as the
   * coordinator checks the digest of what it receives (a file changed meanwhile fails the upload).
   * `putFile` (blob-store.ts) calls it.
   */
  async putFile(path: string, digest: Digest): Promise<BlobInfo> {
    this.check(digest);
    const { size } = await stat(path);
    await this.lease?.add([{ kind: 'blob', digest }]);
    await this.upload(fromFile(path), digest, size);
    return { digest, size };
  }

  /**
   * The blob `digest` of `source`, uploaded from there: read at offsets where `source` can (a worker's
   * own store), so that a resumed upload starts where the coordinator's part ends, and nothing is
   * spooled or hashed on this side (the coordinator checks the digest). Else through `writer`.
   */
  async putFrom(source: BlobStore, digest: Digest): Promise<BlobInfo> {
    this.check(digest);
    if (!source.openReader) return copyBlob(source, this, digest);
    const size = await source.stat(digest);
    if (size === undefined) throw new BlobError(`upload ${digest}: the store it is uploaded from does not have it`);
    await this.lease?.add([{ kind: 'blob', digest }]);
    const open = source.openReader.bind(source);
    await this.upload((offset) => Readable.from(readChunks(() => open(digest), offset, size)), digest, size);
    return { digest, size };
  }

  /** Uploads the bytes `open(offset)` gives as `digest`, from whatever the coordinator already holds of it. */
  private async upload(open: (offset: number) => Readable, digest: Digest, size: number): Promise<void> {
    let failures = 0;
    let best = -1;
    for (;;) {
      const st = await this.statCall(digest);
      if (st.exists) return;
      const offset = st.uploadOffset <= size ? st.uploadOffset : 0;
      if (offset > best) {
        best = offset;
        failures = 0;
      }
      try {
        await this.sendFrom(open, digest, size, offset);
        return;
      } catch (err) {
        if (err instanceof BlobError) throw err;
        // Bad content sent from offset 0 is ours: no retry. From a later offset, the part held
        // there may be another writer's bad bytes, which the coordinator has now dropped.
        const ours = (err as grpc.ServiceError).code === grpc.status.DATA_LOSS && offset === 0;
        if (ours || !(retryable(err) || (err as grpc.ServiceError).code === grpc.status.DATA_LOSS) || ++failures >= ATTEMPTS_WITHOUT_PROGRESS) throw this.failure(err, `upload ${digest}`);
        await sleep(backoff(failures));
      }
    }
  }

  /** One Upload call: the header, then the bytes from `offset`, each chunk sent once the call can take it. */
  private sendFrom(open: (offset: number) => Readable, digest: Digest, size: number, offset: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const call = this.client.Upload((err) => {
        done = true;
        src.destroy();
        if (err) reject(err);
        else resolve();
      });
      const src = open(offset);
      call.write({ header: { digest, size, offset } });
      void (async () => {
        for await (const data of src) {
          if (done) return;
          if (!call.write({ data: data as Buffer })) await new Promise<void>((r) => call.once('drain', r).once('status', r));
        }
        if (!done) call.end();
      })().catch((err: unknown) => {
        if (done) return;
        // Our own bytes failed: nothing the coordinator can resume from us.
        call.cancel();
        reject(new BlobError(`upload ${digest}: cannot read the blob: ${(err as Error).message}`));
      });
    });
  }

  async delete(digest: Digest): Promise<boolean> {
    this.check(digest);
    throw new BlobError(`content service ${this.address}: refuses to delete ${digest}: blobs leave the shared store only through the coordinator's garbage collection`);
  }

  async *list(): AsyncIterable<BlobEntry> {
    throw new BlobError(`content service ${this.address}: cannot list the shared store's blobs`);
  }

  exportTo(digest: Digest, dest: string): Promise<void> {
    return copyBlobTo(this, digest, dest);
  }
}

/** 50 ms, doubling, at most 2 s. */
const backoff = (attempt: number): number => Math.min(2_000, 50 * 2 ** Math.max(0, attempt - 1));

/** The bytes of the file at `path` from an offset on. */
const fromFile =
  (path: string) =>
  (offset: number): Readable =>
    createReadStream(path, { start: offset, highWaterMark: UPLOAD_CHUNK_BYTES });

/** The bytes of the reader `open` gives, from `offset` to `size`, in chunks of UPLOAD_CHUNK_BYTES. */
async function* readChunks(open: () => Promise<BlobReader>, offset: number, size: number): AsyncGenerator<Buffer> {
  const reader = await open();
  try {
    for (let at = offset; at < size; ) {
      const into = Buffer.allocUnsafe(Math.min(UPLOAD_CHUNK_BYTES, size - at));
      const n = await reader.read(into, at);
      if (n === 0) throw new Error(`it ends at ${at} of its ${size} bytes`);
      yield into.subarray(0, n);
      at += n;
    }
  } finally {
    await reader.close();
  }
}
