import type { DownloadResponse } from '../../proto/generated/dockyard/v1/DownloadResponse.js';

/**
 * Room kept in front of each buffer's data for the DownloadResponse fields that precede it on the
 * wire: three tags, two 64-bit varints and the data's length (at most 1 + 10 + 1 + 10 + 1 + 5 bytes).
 */
const HEADER_BYTES = 28;

/** Each pooled buffer's whole ArrayBuffer, to the function that gives it back to its pool. */
const pooled = new WeakMap<ArrayBufferLike, () => void>();

/**
 * A few buffers one download reads its chunks into, each reused once grpc-js has serialised the
 * message that carries it (`serializeDownload`; grpc-js copies a message into its frame as it
 * serialises it). A download then allocates only grpc-js's frames, not also a read buffer and an
 * encoded message per chunk: V8 collects its whole heap each time enough external memory has been
 * allocated, and those collections were most of the coordinator's CPU time in a download (bench/README.md).
 */
export class DownloadBuffers {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((b: Buffer) => void)[] = [];
  private made = 0;

  constructor(
    private readonly count: number,
    private readonly chunkBytes: number,
  ) {}

  /** A buffer of `chunkBytes` to read into, once one is free. */
  take(): Promise<Buffer> {
    const ready = this.free.pop();
    if (ready) return Promise.resolve(ready);
    if (this.made < this.count) {
      this.made++;
      const whole = Buffer.allocUnsafeSlow(HEADER_BYTES + this.chunkBytes);
      const data = whole.subarray(HEADER_BYTES);
      pooled.set(whole.buffer, () => {
        const next = this.waiting.shift();
        if (next) next(data);
        else this.free.push(data);
      });
      return Promise.resolve(data);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

function varintBytes(n: number): number {
  let bytes = 1;
  for (; n >= 128; n = Math.floor(n / 128)) bytes++;
  return bytes;
}

function putVarint(into: Buffer, at: number, n: number): number {
  for (; n >= 128; n = Math.floor(n / 128)) into[at++] = (n % 128) | 128;
  into[at++] = n;
  return at;
}

/**
 * The Download response serialiser: a message whose data is a pooled buffer is encoded in place, its
 * fields written into the room in front of the data, and the buffer goes back to its pool once
 * grpc-js has copied the result; any other message goes to `fallback` (protobufjs).
 */
export function serializeDownload(fallback: (msg: DownloadResponse) => Buffer): (msg: DownloadResponse) => Buffer {
  return (msg) => {
    const data = msg.data as Buffer | undefined;
    const release = data && pooled.get(data.buffer);
    if (!data || !release) return fallback(msg);
    const size = Number(msg.size ?? 0);
    const offset = Number(msg.offset ?? 0);
    const header = 1 + varintBytes(size) + 1 + varintBytes(offset) + 1 + varintBytes(data.length);
    const encoded = Buffer.from(data.buffer, data.byteOffset - header, header + data.length);
    let at = 0;
    encoded[at++] = 0x08; // field 1 (size), varint
    at = putVarint(encoded, at, size);
    encoded[at++] = 0x10; // field 2 (offset), varint
    at = putVarint(encoded, at, offset);
    encoded[at++] = 0x1a; // field 3 (data), length-delimited
    putVarint(encoded, at, data.length);
    // grpc-js copies the message into its frame as soon as this returns.
    queueMicrotask(release);
    return encoded;
  };
}
