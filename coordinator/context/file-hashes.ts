import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { sha256 } from '../../oci/digest.js';

/**
 * What must be unchanged for a file's content hash to be reused, as BuildKit's contenthash keys it:
 * size, mtime, ctime and inode. Any write moves ctime, which nothing but the kernel can set.
 */
export const statStamp = (st: Stats): string => `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;

/**
 * A file changed this recently could change again within the same timestamp tick without its stamp
 * changing (git's "racy" case): its hash is used for this build but not remembered.
 */
export const SETTLED_MS = 2000;

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
   * Writes what is remembered, keeping saved entries whose file still has the same stamp (`live`, from
   * this build's walk). Written to a temporary file and renamed, so that a reader, a concurrent build
   * or a kill -9 sees the old file or the new one, never half of one.
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
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(dirname(this.file), { recursive: true });
    // `<kind>-<pid>-<random>`: the next build removes it if this process dies before the rename.
    const tmp = join(this.tmpDir, `ctxhash-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(tmp, JSON.stringify({ version: 1, files } satisfies Saved));
      renameSync(tmp, this.file);
    } catch {
      // Only a cache: the next build hashes again.
      rmSync(tmp, { force: true });
    }
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
