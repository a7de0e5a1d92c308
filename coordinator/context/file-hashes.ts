import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../cache/atomic-file.js';
import { join, resolve } from 'node:path';
import { sha256 } from '../../oci/digest.js';
import { SETTLED_MS } from '../../worker/file/file-stamp.js';

interface Saved {
  version: 1;
  /** Context-relative path to [stamp, digest]. */
  files: Record<string, [string, string]>;
}

/** The remembered content hashes of one context directory's files. */
export class FileHashes {
  private readonly fresh = new Map<string, [string, string]>();
  private changed = false;

  constructor(
    private readonly file: string,
    private readonly tmpDir: string,
    private readonly saved: Map<string, [string, string]>,
    private readonly settledMs: number,
  ) {}

  /** The digest remembered for `path` when its stamp is unchanged. */
  get(path: string, stamp: string): string | undefined {
    const known = this.saved.get(path);
    return known && known[0] === stamp ? known[1] : undefined;
  }

  set(path: string, stamp: string, digest: string, ctimeMs: number): void {
    if (Date.now() - ctimeMs < this.settledMs) return;
    this.fresh.set(path, [stamp, digest]);
    this.changed = true;
  }

  /**
   * Writes what is remembered (atomically), keeping saved entries whose file still has the same stamp
   * (`live`, from this build's walk).
   */
  save(live: ReadonlyMap<string, string>): void {
    const files: Saved['files'] = {};
    let dropped = false;
    for (const [path, entry] of this.saved) {
      if (live.get(path) === entry[0]) files[path] = entry;
      else dropped = true;
    }
    for (const [path, entry] of this.fresh) files[path] = entry;
    if (!this.changed && !dropped) return;
    // Only a cache: if the write fails, the next build hashes again.
    writeFileAtomic(this.file, JSON.stringify({ version: 1, files } satisfies Saved), this.tmpDir, 'ctxhash');
  }
}

/** The file-hash caches of every context directory, kept under the cache directory (`context-hashes/`). */
export class ContextHashStore {
  private readonly open = new Map<string, { hashes: FileHashes; live: () => ReadonlyMap<string, string> }>();
  private readonly dir: string;
  private readonly tmpDir: string;

  constructor(
    cacheDir: string,
    /** How old a file's last change must be for its hash to be remembered (tests use 0). */
    private readonly settledMs = SETTLED_MS,
  ) {
    this.dir = join(cacheDir, 'context-hashes');
    this.tmpDir = join(cacheDir, 'tmp');
  }

  /** Forgets every remembered hash (`prune --all`). Only hints: a writer meanwhile loses its update, nothing else. */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The cache for the context at `root`; `live` gives the stamps of its files as walked, when saving. */
  forContext(root: string, live: () => ReadonlyMap<string, string>): FileHashes {
    const file = join(this.dir, sha256(resolve(root)).slice(7) + '.json');
    let saved = new Map<string, [string, string]>();
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as Saved;
      if (data.version === 1) saved = new Map(Object.entries(data.files));
    } catch {
      // Missing or unreadable: start empty.
    }
    const hashes = new FileHashes(file, this.tmpDir, saved, this.settledMs);
    this.open.set(file, { hashes, live });
    return hashes;
  }

  /** Remembers the hashes of every context this build opened. */
  saveAll(): void {
    for (const { hashes, live } of this.open.values()) hashes.save(live());
  }
}
