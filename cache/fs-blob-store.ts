import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { chmod, copyFile, link, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isDigest, type Digest } from '../oci/digest.js';
import { BlobSpool } from './blob-spool.js';
import { BlobError, digestMismatch, putFile, verified, type BlobEntry, type BlobInfo, type BlobReader, type BlobStore, type BlobWriter } from './blob-store.js';
import type { Lease } from './lease.js';

/**
 * Content-addressed blobs under `root/blobs/sha256/<hex>`, spooled in `root/tmp`. A blob appears
 * under its name only once it is complete, synced and verified, so a crash leaves at most a stray
 * temporary file. With a lease, every blob this store writes or `hold`s stays until the lease ends.
 */
export class FsBlobStore implements BlobStore {
  readonly canList = true;
  private readonly blobDir: string;
  private readonly tmpDir: string;

  constructor(
    private readonly root: string,
    private readonly lease?: Lease,
  ) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.tmpDir = join(root, 'tmp');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  withLease(lease: Lease): FsBlobStore {
    return new FsBlobStore(this.root, lease);
  }

  private path(digest: Digest): string {
    if (!isDigest(digest)) throw new BlobError(`not a sha256 digest: ${digest}`);
    return join(this.blobDir, digest.slice(7));
  }

  // Synchronous underneath: a cache lookup stats every layer, and a no-op rebuild is mostly lookups.
  async stat(digest: Digest): Promise<number | undefined> {
    return statSync(this.path(digest), { throwIfNoEntry: false })?.size;
  }

  async hold(digest: Digest): Promise<boolean> {
    await this.lease?.add([{ kind: 'blob', digest }]);
    return (await this.stat(digest)) !== undefined;
  }

  stream(digest: Digest): Readable {
    return verified(digest, this.unchecked(digest));
  }

  unchecked(digest: Digest): Readable {
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
  }

  async openReader(digest: Digest): Promise<BlobReader> {
    const fh = await open(this.path(digest), 'r');
    return {
      read: async (into, position) => (await fh.read(into, 0, into.length, position)).bytesRead,
      close: () => fh.close(),
    };
  }

  writer(expected?: Digest): BlobWriter {
    const tmp = join(this.tmpDir, `blob-${process.pid}-${randomBytes(6).toString('hex')}`);
    return new BlobSpool(tmp, expected, async (file, { digest }) => {
      // Leased before it appears, so no prune can take it between its arrival and its first use.
      await this.lease?.add([{ kind: 'blob', digest }]);
      await rename(file, this.path(digest));
    });
  }

  /** The file hashed, then linked into place: its bytes are written once, by whoever spooled them. */
  async adoptFile(path: string, digest: Digest): Promise<BlobInfo> {
    const dest = this.path(digest);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const actual: Digest = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw digestMismatch(digest, actual);
    // Leased before it appears, as a written blob is.
    await this.lease?.add([{ kind: 'blob', digest }]);
    // As readable as a written blob, whatever mode the caller's file had.
    await chmod(path, 0o644);
    try {
      await link(path, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Already here: the same bytes. On another filesystem: copied, as any file is.
      if (code === 'EXDEV') return putFile(this, path, digest);
      if (code !== 'EEXIST') throw err;
    }
    return { digest, size };
  }

  async delete(digest: Digest): Promise<boolean> {
    return unlink(this.path(digest)).then(
      () => true,
      () => false,
    );
  }

  /** Synchronous underneath: a build's size check lists every blob, and thread-pool round trips would dominate. */
  async *list(): AsyncIterable<BlobEntry> {
    for (const name of readdirSync(this.blobDir)) {
      const digest = `sha256:${name}` as Digest;
      if (!isDigest(digest)) continue;
      // ctime: a rename into the store or a new hard link marks a blob as recently arrived.
      const st = statSync(join(this.blobDir, name), { throwIfNoEntry: false });
      if (st) yield { digest, size: st.size, arrived: st.ctime };
    }
  }

  /** Blobs are immutable: a hard link is as good as a copy and costs nothing. */
  async exportTo(digest: Digest, dest: string): Promise<void> {
    await link(this.path(digest), dest).catch(() => copyFile(this.path(digest), dest));
  }
}
