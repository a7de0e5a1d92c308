import { createHash } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { digestMismatch, type BlobInfo, type BlobWriter } from './blob-store.js';

/**
 * A `BlobWriter` that spools to a temporary file while hashing; on `commit` it syncs, checks the
 * digest and hands the file to `publish` (which leases, then makes the blob visible). A crash leaves
 * at most the temporary file, named `blob-<pid>-...` so that the next start can remove it.
 */
export class BlobSpool extends Writable implements BlobWriter {
  private readonly hash = createHash('sha256');
  private size = 0;
  private fh?: FileHandle;
  private readonly opening: Promise<FileHandle>;

  constructor(
    private readonly tmpPath: string,
    private readonly expected: Digest | undefined,
    /** Makes the verified file at `tmpPath` the blob `info`; the spool removes the file afterwards if it is still there. */
    private readonly publish: (tmpPath: string, info: BlobInfo) => Promise<void>,
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
    // writev, not a concatenation: a download's chunks are 1 MB, and copying them cost more than the write.
    this.opening.then((fh) => writeAll(fh, chunks.map((c) => c.chunk))).then(() => done(), done);
  }

  async commit(): Promise<BlobInfo> {
    if (!this.writableFinished) await new Promise<void>((resolve, reject) => this.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const fh = await this.opening;
    await fh.sync();
    await fh.close();
    const digest: Digest = `sha256:${this.hash.digest('hex')}`;
    if (this.expected && digest !== this.expected) {
      await unlink(this.tmpPath).catch(() => undefined);
      throw digestMismatch(this.expected, digest);
    }
    const info = { digest, size: this.size };
    try {
      await this.publish(this.tmpPath, info);
    } finally {
      await unlink(this.tmpPath).catch(() => undefined);
    }
    return info;
  }

  get writtenBytes(): number {
    return this.size;
  }

  writtenDigest(): Digest {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  async abort(): Promise<void> {
    this.destroy();
    await (this.fh ?? (await this.opening.catch(() => undefined)))?.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}

/** All of `buffers`, in order: writev may write less than asked (then the rest follows). */
async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest);
    while (rest.length > 0 && bytesWritten >= rest[0]!.length) {
      bytesWritten -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (bytesWritten > 0) rest = [rest[0]!.subarray(bytesWritten), ...rest.slice(1)];
  }
}
