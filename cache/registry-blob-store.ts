import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isDigest, type Digest } from '../oci/digest.js';
import { pushBlob } from '../oci/registry/blob-upload.js';
import { RegistryClient, type ClientOptions } from '../oci/registry/client.js';
import { BlobSpool } from './blob-spool.js';
import { BlobError, copyBlobTo, lazyVerified, type BlobEntry, type BlobStore, type BlobWriter } from './blob-store.js';
import type { Lease } from './lease.js';

/** `registry://HOST[:PORT]/REPO` as the user names a store; undefined for anything else. */
export function parseRegistryStore(location: string): { host: string; repo: string } | undefined {
  const m = /^registry:\/\/([^/\s]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)\/?$/.exec(location);
  return m ? { host: m[1]!, repo: m[2]! } : undefined;
}

export interface RegistryBlobStoreOptions {
  client?: ClientOptions;
  lease?: Lease;
  /** Where writes are spooled before they are uploaded (default: the system's temporary directory). */
  scratchDir?: string;
}

/**
 * Blobs in one repository of an OCI registry, so that an existing registry can be a farm's store:
 * HEAD for `stat`, GET for `stream`, the upload flow for writes, DELETE for `delete` (the registry
 * must allow deletes: `storage.delete.enabled`). A write is spooled to a local file and uploaded only
 * once its digest is verified and the blob is leased, so nothing partial or wrong ever appears.
 *
 * The distribution API cannot list a repository's blobs: `canList` is false. GC then removes the
 * blobs of the records it removes (unless leased or still used), and never the blobs no record
 * names; those are left to the registry's own garbage collection (`registry garbage-collect`).
 */
export class RegistryBlobStore implements BlobStore {
  readonly canList = false;
  private readonly client: RegistryClient;
  private readonly host: string;
  private readonly repo: string;
  private readonly scratch: string;
  private readonly lease: Lease | undefined;

  constructor(location: string, opts: RegistryBlobStoreOptions = {}, client?: RegistryClient) {
    const parsed = parseRegistryStore(location);
    if (!parsed) throw new BlobError(`invalid store ${JSON.stringify(location)}: use registry://HOST/REPOSITORY`);
    ({ host: this.host, repo: this.repo } = parsed);
    this.client = client ?? new RegistryClient(this.host, opts.client);
    this.scratch = opts.scratchDir ?? join(tmpdir(), 'dockyard-registry-store');
    mkdirSync(this.scratch, { recursive: true });
    this.lease = opts.lease;
  }

  private get location(): string {
    return `registry://${this.host}/${this.repo}`;
  }

  withLease(lease: Lease): RegistryBlobStore {
    return new RegistryBlobStore(this.location, { scratchDir: this.scratch, lease }, this.client);
  }

  private path(digest: Digest): string {
    if (!isDigest(digest)) throw new BlobError(`not a sha256 digest: ${digest}`);
    return `/v2/${this.repo}/blobs/${digest}`;
  }

  async stat(digest: Digest): Promise<number | undefined> {
    const res = await this.client.request(this.path(digest), { repo: this.repo, actions: ['pull'], method: 'HEAD', accept: [404] });
    if (res.status === 404) return undefined;
    const length = res.headers.get('content-length');
    return length === null ? undefined : Number(length);
  }

  async hold(digest: Digest): Promise<boolean> {
    await this.lease?.add([{ kind: 'blob', digest }]);
    return (await this.stat(digest)) !== undefined;
  }

  stream(digest: Digest): Readable {
    const path = this.path(digest);
    return lazyVerified(digest, async () => {
      const body = await this.client.blobBody(path, { repo: this.repo, actions: ['pull'] });
      if (!body) throw new BlobError(`${this.location}: ${digest}: the registry sent no body`);
      return body;
    });
  }

  writer(expected?: Digest): BlobWriter {
    const tmp = join(this.scratch, `blob-${process.pid}-${randomBytes(6).toString('hex')}`);
    return new BlobSpool(tmp, expected, async (file, { digest, size }) => {
      // Leased before it appears, so no collection can take it between its arrival and its first use.
      await this.lease?.add([{ kind: 'blob', digest }]);
      if ((await this.stat(digest)) !== undefined) return; // another writer got there first
      await pushBlob(this.client, this.repo, digest, size, createReadStream(file, { highWaterMark: 1 << 20 }));
    });
  }

  async delete(digest: Digest): Promise<boolean> {
    const res = await this.client.request(this.path(digest), { repo: this.repo, actions: ['pull', 'push'], method: 'DELETE', accept: [404, 405] });
    if (res.status === 405) throw new BlobError(`${this.location}: the registry does not allow deletes (enable storage.delete in its configuration)`);
    return res.status !== 404;
  }

  async *list(): AsyncIterable<BlobEntry> {
    throw new BlobError(`${this.location}: a registry cannot list its blobs`);
  }

  exportTo(digest: Digest, dest: string): Promise<void> {
    return copyBlobTo(this, digest, dest);
  }
}
