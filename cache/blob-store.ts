import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { isDigest, type Digest } from '../oci/digest.js';
import { ExpectedError } from '../oci/expected-error.js';
import type { Lease } from './lease.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export class BlobError extends ExpectedError {}

/** Writes a blob to a temporary file while hashing it; `commit` makes it durable and moves it in place. */
export class BlobWriter extends Writable {
  private readonly hash = createHash('sha256');
  private size = 0;
  private fh?: FileHandle;
  private readonly opening: Promise<FileHandle>;

  constructor(
    private readonly store: BlobStore,
    private readonly tmpPath: string,
    private readonly expected?: Digest,
  ) {
    super({ highWaterMark: 4 << 20 });
    this.opening = open(tmpPath, 'wx', 0o644).then((fh) => (this.fh = fh));
    this.opening.catch(() => undefined);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this._writev([{ chunk }], done);
  }

  /** Small chunks (a network read is often 16-64 kB) go to disk together, in one write. */
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    for (const { chunk } of chunks) {
      this.hash.update(chunk);
      this.size += chunk.length;
    }
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.opening.then((fh) => fh.write(data)).then(() => done(), done);
  }

  /** Flushes to disk, checks the digest and renames into the store. Safe against a crash at any point. */
  async commit(): Promise<BlobInfo> {
    if (!this.writableFinished) await new Promise<void>((resolve, reject) => this.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const fh = await this.opening;
    await fh.sync();
    await fh.close();
    const digest: Digest = `sha256:${this.hash.digest('hex')}`;
    if (this.expected && digest !== this.expected) {
      await unlink(this.tmpPath).catch(() => undefined);
      throw new BlobError(`content does not match its digest: expected ${this.expected}, got ${digest}`);
    }
    // Leased before it appears, so no prune can take it between its arrival and its first use.
    await this.store.lease?.add([{ kind: 'blob', digest }]);
    await rename(this.tmpPath, this.store.path(digest));
    return { digest, size: this.size };
  }

  /** Bytes accepted so far (for resuming a download). */
  get writtenBytes(): number {
    return this.size;
  }

  async abort(): Promise<void> {
    this.destroy();
    await (this.fh ?? (await this.opening.catch(() => undefined)))?.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}

/**
 * Content-addressed blobs under `root/blobs/sha256/<hex>`. A blob appears under its name only once it
 * is complete, synced and verified, so a crash leaves at most a stray temporary file. With a lease,
 * every blob this store writes or `hold`s stays until the lease is released.
 */
export class BlobStore {
  readonly blobDir: string;
  readonly tmpDir: string;

  constructor(
    readonly root: string,
    readonly lease?: Lease,
  ) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.tmpDir = join(root, 'tmp');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  path(digest: Digest): string {
    if (!isDigest(digest)) throw new BlobError(`not a sha256 digest: ${digest}`);
    return join(this.blobDir, digest.slice(7));
  }

  has(digest: Digest): boolean {
    return existsSync(this.path(digest));
  }

  /** Leases the blob, then says whether it is here: a true answer stays true until the lease ends. */
  async hold(digest: Digest): Promise<boolean> {
    await this.lease?.add([{ kind: 'blob', digest }]);
    return this.has(digest);
  }

  size(digest: Digest): number {
    return statSync(this.path(digest)).size;
  }

  writer(expected?: Digest): BlobWriter {
    return new BlobWriter(this, join(this.tmpDir, `blob-${process.pid}-${randomBytes(6).toString('hex')}`), expected);
  }

  async put(data: Uint8Array | string): Promise<BlobInfo> {
    const w = this.writer();
    w.end(typeof data === 'string' ? Buffer.from(data) : data);
    return w.commit();
  }

  /** Reads a whole blob and checks it against its digest. */
  async read(digest: Digest): Promise<Buffer> {
    const data = await readFile(this.path(digest));
    const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (actual !== digest) throw new BlobError(`blob ${digest} is corrupt (content hashes to ${actual}); run 'dockyard prune --all'`);
    return data;
  }

  /** A stream of the blob that fails at its end when the content does not match the digest. Nothing flows until it is read. */
  stream(digest: Digest): NodeJS.ReadableStream {
    const hash = createHash('sha256');
    const verify = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        const actual = `sha256:${hash.digest('hex')}`;
        done(actual === digest ? null : new BlobError(`blob ${digest} is corrupt (content hashes to ${actual})`));
      },
    });
    const src = createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
    src.on('error', (err) => verify.destroy(err));
    return src.pipe(verify);
  }
}
