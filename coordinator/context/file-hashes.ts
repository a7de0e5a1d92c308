import { HintFolder } from '../../cache/hint-folder.js';
import { resolve } from 'node:path';
import { sha256 } from '../../oci/digest.js';
import { changedWithin, SETTLED_MS } from '../../worker/file/file-stamp.js';

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
    private readonly folder: HintFolder,
    private readonly key: string,
    private readonly saved: Map<string, [string, string]>,
    private readonly settledMs: number,
  ) {}

  /** The digest remembered for `path` when its stamp is unchanged. */
  get(path: string, stamp: string): string | undefined {
    const known = this.saved.get(path);
    return known && known[0] === stamp ? known[1] : undefined;
  }

  set(path: string, stamp: string, digest: string, ctimeMs: number): void {
    if (changedWithin(ctimeMs, this.settledMs)) return;
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
    this.folder.write(this.key, { version: 1, files } satisfies Saved);
  }
}

/** The file-hash caches of every context directory, kept under the cache directory (`context-hashes/`). */
export class ContextHashStore {
  private readonly open = new Map<string, { hashes: FileHashes; live: () => ReadonlyMap<string, string> }>();
  private readonly folder: HintFolder;

  constructor(
    cacheDir: string,
    /** How old a file's last change must be for its hash to be remembered (tests use 0). */
    private readonly settledMs = SETTLED_MS,
  ) {
    this.folder = new HintFolder(cacheDir, 'context-hashes');
  }

  /** Forgets every remembered hash (`prune --all`). Only hints: a writer meanwhile loses its update, nothing else. */
  clear(): Promise<void> {
    return this.folder.clear();
  }

  /** The cache for the context at `root`; `live` gives the stamps of its files as walked, when saving. */
  forContext(root: string, live: () => ReadonlyMap<string, string>): FileHashes {
    const key = sha256(resolve(root)).slice(7);
    const saved = this.folder.read(key, (doc) => ((doc as Saved).version === 1 ? new Map(Object.entries((doc as Saved).files)) : undefined)) ?? new Map<string, [string, string]>();
    const hashes = new FileHashes(this.folder, key, saved, this.settledMs);
    this.open.set(key, { hashes, live });
    return hashes;
  }

  /** Remembers the hashes of every context this build opened. */
  saveAll(): void {
    for (const { hashes, live } of this.open.values()) hashes.save(live());
  }
}
