import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { tlsRoots } from '../../oci/tls-roots.js';

export class FetchError extends ExpectedError {}

/**
 * Downloads ADD URLs into the blob store, once per URL and build, checking `--checksum`. Without a
 * store (dry runs) the content is only hashed, so that a plan's keys still follow it.
 */
export class UrlFetcher {
  private readonly fetched = new Map<string, Promise<Digest>>();

  constructor(private readonly blobs?: BlobStore) {}

  fetch(url: string, checksum?: string): Promise<Digest> {
    let job = this.fetched.get(url);
    if (!job) {
      job = this.download(url);
      this.fetched.set(url, job);
    }
    return job.then((digest) => {
      if (checksum !== undefined && checksum !== digest) {
        throw new FetchError(`ADD ${url}: checksum mismatch: --checksum=${checksum} but the content is ${digest}`);
      }
      return digest;
    });
  }

  private async download(url: string): Promise<Digest> {
    let res: Response;
    // A server that never answers must not hang the build: 30 s for the response to start.
    const answered = new AbortController();
    const timer = setTimeout(() => answered.abort(new Error('no answer within 30 s')), 30_000);
    try {
      const roots = tlsRoots();
      if (roots) {
        const { Agent, fetch: fetchWith } = await import('undici');
        res = (await fetchWith(url, { redirect: 'follow', signal: answered.signal, dispatcher: new Agent({ connect: { ca: roots } }) })) as unknown as Response;
      } else res = await fetch(url, { redirect: 'follow', signal: answered.signal });
    } catch (err) {
      throw new FetchError(`ADD ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok || !res.body) throw new FetchError(`ADD ${url}: the server answered HTTP ${res.status} ${res.statusText}`);
    const body = Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
    if (!this.blobs) return this.hash(url, body);
    const w = this.blobs.writer();
    try {
      await pipeline(body, w);
      return (await w.commit()).digest;
    } catch (err) {
      await w.abort();
      throw new FetchError(`ADD ${url}: download failed: ${(err as Error).message}`);
    }
  }

  private async hash(url: string, body: Readable): Promise<Digest> {
    const h = createHash('sha256');
    try {
      for await (const chunk of body) h.update(chunk as Buffer);
    } catch (err) {
      throw new FetchError(`ADD ${url}: download failed: ${(err as Error).message}`);
    }
    return `sha256:${h.digest('hex')}`;
  }
}
