import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Digest } from '../../oci/digest.js';

const gzip = promisify(gzipCallback);

/** Fixed chunk boundaries: the same input always gives the same compressed bytes. */
export const GZIP_CHUNK = 4 << 20;

export interface GzipResult {
  /** sha256 of the uncompressed input: a layer's diffID. */
  diffID: Digest;
  uncompressedSize: number;
}

/**
 * Gzips `source` into `sink` on several threads. Each fixed-size chunk becomes one gzip member;
 * concatenated members are one valid gzip stream (RFC 1952), which every OCI client reads.
 */
export async function gzipParallel(source: AsyncIterable<Buffer>, sink: Writable, opts: { level?: number; threads?: number; hash?: boolean } = {}): Promise<GzipResult> {
  const level = opts.level ?? 6;
  const threads = Math.max(1, opts.threads ?? availableParallelism());
  const hash = createHash('sha256');
  let size = 0;
  const inFlight: Promise<Buffer>[] = [];

  const write = (buf: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      if (sink.write(buf)) resolve();
      else {
        const onDrain = (): void => {
          sink.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          sink.off('drain', onDrain);
          reject(err);
        };
        sink.once('drain', onDrain);
        sink.once('error', onError);
      }
    });

  const submit = async (chunk: Buffer): Promise<void> => {
    inFlight.push(gzip(chunk, { level }));
    // Keep up to `threads` chunks compressing; write finished ones in order.
    while (inFlight.length >= threads) await write(await inFlight.shift()!);
  };

  let pending: Buffer[] = [];
  let pendingSize = 0;
  for await (const piece of source) {
    if (opts.hash !== false) hash.update(piece);
    size += piece.length;
    pending.push(piece);
    pendingSize += piece.length;
    while (pendingSize >= GZIP_CHUNK) {
      const all = Buffer.concat(pending, pendingSize);
      await submit(all.subarray(0, GZIP_CHUNK));
      const rest = all.subarray(GZIP_CHUNK);
      pending = rest.length ? [rest] : [];
      pendingSize = rest.length;
    }
  }
  if (pendingSize > 0 || size === 0) await submit(Buffer.concat(pending, pendingSize));
  while (inFlight.length > 0) await write(await inFlight.shift()!);
  return { diffID: `sha256:${hash.digest('hex')}`, uncompressedSize: size };
}
