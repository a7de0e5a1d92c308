import { open, rm, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const READ_CHUNK = 1 << 20;

/**
 * A temporary file written by one side while the other reads it as it grows: a layer tar is spooled
 * at the speed the tree can be read, and its compression follows the same bytes from the start
 * instead of after the last one. The file, not memory, holds what the slower reader has not reached.
 */
export class FollowedSpool {
  private written = 0;
  private ended = false;
  private failure?: Error;
  private wake?: () => void;

  private constructor(
    readonly path: string,
    private readonly out: FileHandle,
  ) {}

  /** Creates the file (it must not exist). */
  static async create(path: string): Promise<FollowedSpool> {
    return new FollowedSpool(path, await open(path, 'wx', 0o600));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The writing side: ends the spool when it finishes; a failure or destroy fails the reader. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.out.write(chunk, 0, chunk.length, this.written).then(
          () => {
            this.written += chunk.length;
            this.notify();
            done();
          },
          (err: Error) => done(err),
        );
      },
      final: (done) => {
        this.out.close().then(() => {
          this.ended = true;
          this.notify();
          done();
        }, done);
      },
      destroy: (err, done) => {
        if (!this.ended) {
          this.failure = err ?? new Error(`${this.path}: the spool was abandoned before its end`);
          this.notify();
          void this.out.close().catch(() => undefined);
        }
        done(err);
      },
    });
  }

  /** The reading side (one reader): every byte once written, ending with the writer; then the file is removed. */
  async *read(): AsyncGenerator<Buffer> {
    const input = await open(this.path, 'r');
    let pos = 0;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (pos < this.written) {
          const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, this.written - pos));
          const { bytesRead } = await input.read(buf, 0, buf.length, pos);
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
        } else if (this.ended) {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      }
    } finally {
      await input.close();
      await rm(this.path, { force: true });
    }
  }
}
