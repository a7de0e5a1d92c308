import type * as grpc from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import { verified } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import type { ContentClient as WireContentClient } from '../../proto/generated/dockyard/v1/Content.js';
import type { DownloadResponse__Output } from '../../proto/generated/dockyard/v1/DownloadResponse.js';
import { loadDockyardProto } from '../../proto/load.js';
import type { Dial } from './dial.js';

const CHUNK = 1 << 20;

/**
 * What the worker needs of the coordinator's Content service: which blobs it lacks, a blob's bytes,
 * and an upload. (cache/content-blob-store.ts, branch transport-content, offers the same as a
 * BlobStore; this is the worker's minimal client until it lands.)
 */
export class ContentClient {
  private readonly client: WireContentClient;

  constructor(address: string, dial: Dial) {
    const proto = loadDockyardProto();
    this.client = new proto.dockyard.v1.Content(address, dial.credentials, dial.options);
  }

  close(): void {
    this.client.close();
  }

  findMissing(digests: Digest[]): Promise<Digest[]> {
    if (digests.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) =>
      this.client.FindMissing({ digests }, (err: grpc.ServiceError | null, res) => (err ? reject(err) : resolve((res?.missing ?? []) as Digest[]))),
    );
  }

  /** The blob's bytes, verified against its digest. */
  stream(digest: Digest): Readable {
    const call = this.client.Download({ digest, offset: 0 });
    const bytes = Readable.from(
      (async function* () {
        for await (const msg of call as AsyncIterable<DownloadResponse__Output>) yield msg.data;
      })(),
      { objectMode: false },
    );
    return verified(digest, bytes);
  }

  /** Copies a blob of `local` into the coordinator's store; the service checks the digest. */
  async upload(digest: Digest, local: BlobStore): Promise<void> {
    const size = await local.stat(digest);
    if (size === undefined) throw new Error(`blob ${digest} is not in the worker's store`);
    await new Promise<void>((resolve, reject) => {
      const call = this.client.Upload((err: grpc.ServiceError | null) => (err ? reject(err) : resolve()));
      call.write({ header: { digest, size, offset: 0 } });
      (async () => {
        for await (const chunk of local.stream(digest)) {
          const buf = chunk as Buffer;
          for (let i = 0; i < buf.length; i += CHUNK) if (!call.write({ data: buf.subarray(i, i + CHUNK) })) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      })().catch((err: unknown) => {
        call.cancel();
        reject(err as Error);
      });
    });
  }

  /** Downloads a blob into `local` (digest checked on commit). */
  async fetchInto(digest: Digest, local: BlobStore): Promise<void> {
    const w = local.writer(digest);
    try {
      await pipeline(this.stream(digest), w);
    } catch (err) {
      await w.abort();
      throw err;
    }
    await w.commit();
  }
}
