import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { open, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../../oci/digest.js';

/** Why an upload session cannot go on; the service turns it into a status. */
export class UploadConflict extends Error {}

/**
 * Partial uploads, one file per digest (`<hex>`) whose length is the offset at which an interrupted
 * upload resumes. One session owns a digest's file at a time: a newer session of the same digest (the
 * client resuming after a stream it saw break, before this side noticed) takes the file over, and the
 * older one fails at its next chunk. Every change to a file runs under its digest's lock, so a
 * newcomer sees the length after the last chunk the older session wrote. Files nobody touched for
 * `staleMs` are removed by `sweep`.
 */
export class UploadSpool {
  private readonly owners = new Map<string, UploadSession>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly dir: string,
    private readonly staleMs: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  path(digest: Digest): string {
    return join(this.dir, digest.slice(7));
  }

  /** Runs `fn` after every earlier locked operation on `digest` has ended. */
  locked<T>(digest: Digest, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(digest) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(digest, tail);
    void tail.then(() => {
      if (this.locks.get(digest) === tail) this.locks.delete(digest);
    });
    return run;
  }

  /** Bytes of `digest` held from interrupted uploads (0 when none). */
  offset(digest: Digest): number {
    return statSync(this.path(digest), { throwIfNoEntry: false })?.size ?? 0;
  }

  /**
   * A session that appends to `digest` from `offset`, which must be the spooled length: otherwise an
   * UploadConflict naming the offset to resume at.
   */
  begin(digest: Digest, offset: number): Promise<UploadSession> {
    return this.locked(digest, async () => {
      const held = this.offset(digest);
      if (offset !== held) throw new UploadConflict(`upload of ${digest} starts at ${offset} but the store holds ${held} bytes of it: resume at ${held}`);
      const fh = await open(this.path(digest), 'a', 0o600);
      const session = new UploadSession(this, digest, fh, offset);
      this.owners.get(digest)?.supersede();
      this.owners.set(digest, session);
      return session;
    });
  }

  /** Forgets `session` as the owner of its digest (if it still is). */
  release(session: UploadSession): void {
    if (this.owners.get(session.digest) === session) this.owners.delete(session.digest);
  }

  /** Removes `digest`'s partial file. */
  async discard(digest: Digest): Promise<void> {
    await unlink(this.path(digest)).catch(() => undefined);
  }

  /** Removes partial uploads untouched for `staleMs` that no session owns. */
  async sweep(now = Date.now()): Promise<void> {
    for (const name of readdirSync(this.dir)) {
      const digest = `sha256:${name}` as Digest;
      if (this.owners.has(digest)) continue;
      const st = statSync(join(this.dir, name), { throwIfNoEntry: false });
      if (st && now - st.mtimeMs > this.staleMs) await this.locked(digest, () => (this.owners.has(digest) ? Promise.resolve() : this.discard(digest)));
    }
  }

  /** Truncates `digest`'s file to `length` (a session that failed half-way through a write). */
  async cut(digest: Digest, length: number): Promise<void> {
    await truncate(this.path(digest), length).catch(() => undefined);
  }
}

/** One Upload call's hold on a digest's partial file. */
export class UploadSession {
  private superseded = false;
  /** Bytes this session appended. */
  received = 0;

  constructor(
    private readonly spool: UploadSpool,
    readonly digest: Digest,
    private readonly fh: FileHandle,
    /** Where this session started. */
    readonly start: number,
  ) {}

  get length(): number {
    return this.start + this.received;
  }

  supersede(): void {
    this.superseded = true;
  }

  private check(): void {
    if (this.superseded) throw new UploadConflict(`a newer upload of ${this.digest} took over: resume at the offset the store reports`);
  }

  /** Appends `data`; a failed write leaves the file at its previous length. */
  append(data: Buffer): Promise<void> {
    return this.spool.locked(this.digest, async () => {
      this.check();
      try {
        await this.fh.write(data);
      } catch (err) {
        await this.spool.cut(this.digest, this.length);
        throw err;
      }
      this.received += data.length;
    });
  }

  /**
   * Runs `publish` on the complete file under the digest's lock (so no other session appends to it
   * meanwhile), then removes the file whether `publish` succeeded or reported bad content: in
   * either case nothing is left to resume. Other failures keep it.
   */
  finish(publish: (path: string) => Promise<void>, keepOn: (err: unknown) => boolean): Promise<void> {
    return this.spool.locked(this.digest, async () => {
      this.check();
      await this.fh.sync();
      try {
        await publish(this.spool.path(this.digest));
      } catch (err) {
        if (!keepOn(err)) await this.spool.discard(this.digest);
        throw err;
      }
      await this.spool.discard(this.digest);
    });
  }

  /** Ends the session: closes its file and gives up ownership. */
  async close(): Promise<void> {
    this.spool.release(this);
    await this.fh.close().catch(() => undefined);
  }
}
