import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A folder of hints kept beside the cache (`<cacheDir>/<name>/`): JSON documents by key, read leniently
 * and replaced atomically. Only hints: a document lost, unreadable or overwritten by a concurrent
 * writer costs work, never correctness, so `prune --all` just removes the folder.
 */
export class HintFolder {
  private readonly dir: string;
  private readonly tmpDir: string;
  /** Temporary files are `<kind>-<pid>-<random>`, which the next build's clean-up removes if this process dies. */
  private readonly kind: string;

  constructor(cacheDir: string, name: string) {
    this.dir = join(cacheDir, name);
    this.tmpDir = join(cacheDir, 'tmp');
    this.kind = name.replace(/[^a-z0-9]/gi, '');
  }

  private path(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /** What `accept` makes of the document under `key`; undefined when it is missing, unreadable or refused. */
  read<T>(key: string, accept: (doc: unknown) => T | undefined): T | undefined {
    try {
      return accept(JSON.parse(readFileSync(this.path(key), 'utf8')));
    } catch {
      return undefined;
    }
  }

  /**
   * Replaces the document under `key` through a temporary file and a rename, so that a reader, a
   * concurrent writer or a kill -9 leaves the old document or the new one, never half of one. A write
   * that fails leaves nothing behind and is not reported: the next build just has no hint.
   */
  write(key: string, doc: unknown): void {
    const tmp = join(this.tmpDir, `${this.kind}-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(this.tmpDir, { recursive: true });
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, JSON.stringify(doc));
      renameSync(tmp, this.path(key));
    } catch {
      rmSync(tmp, { force: true });
    }
  }

  /** Forgets every document (`prune --all`). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
