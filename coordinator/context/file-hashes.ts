import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HintFolder } from '../../cache/hint-folder.js';
import { sha256 } from '../../oci/digest.js';
import { changedWithin, SETTLED_MS } from '../../worker/file/file-stamp.js';
import { stampCtimeMs, contextStamp } from './context-walk.js';

interface Saved {
  /** 4: stamps of size, ctime and inode as find prints them (`contextStamp`); a file of another version is not read. */
  version: 4;
  /** Context-relative path to [stamp, digest]. */
  files: Record<string, [string, string]>;
}

/** The remembered content hashes of one context directory's files. */
export class FileHashes {
  private readonly fresh = new Map<string, [string, string]>();
  private changed = false;
  /** Files hashed too soon after a change for their hashes to be trusted yet: path to [stamp, digest]. */
  private readonly racy = new Map<string, [string, string]>();

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

  set(path: string, stamp: string, digest: string): void {
    if (changedWithin(stampCtimeMs(stamp), this.settledMs)) {
      this.racy.set(path, [stamp, digest]);
      return;
    }
    this.fresh.set(path, [stamp, digest]);
    this.changed = true;
  }

  /**
   * Checks again, now, the files hashed too soon after a change (git's racily clean entries): one whose
   * change has settled since, with the same stamp and the same content, is remembered after all, as a
   * change after this point moves its ctime. False when one cannot be: it changed, or is still fresh.
   */
  settle(root: string): boolean {
    let settled = true;
    for (const [path, [stamp, digest]] of this.racy) {
      const abs = join(root, path);
      const now = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (!changedWithin(stampCtimeMs(stamp), this.settledMs) && now && contextStamp(now) === stamp && hashFile(abs) === digest) this.set(path, stamp, digest);
      else settled = false;
    }
    this.racy.clear();
    return settled;
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
    this.folder.write(this.key, { version: 4, files } satisfies Saved);
  }
}

interface SavedSelections {
  version: 1;
  /** The walk this holds for (`findOutputDigest`). */
  tree: string;
  /** Selection (source and excludes) to checksum. */
  checksums: Record<string, string>;
}

/**
 * The selection checksums of one context, from the last build whose walk found the same records (every
 * path, type, mode, owner, size, link target, ctime and inode) under the same ignore rules: then every
 * file hash they were made of holds too, as the file-hash cache trusts a stamp. A no-op build takes
 * them as they are and neither parses the walk nor hashes anything.
 */
export class SelectionMemo {
  private readonly fresh = new Map<string, string>();
  private tree?: string;

  constructor(
    private readonly folder: HintFolder,
    private readonly key: string,
    private readonly saved: SavedSelections | undefined,
  ) {}

  get(tree: string, selection: string): string | undefined {
    return this.saved?.tree === tree ? this.saved.checksums[selection] : undefined;
  }

  set(tree: string, selection: string, checksum: string): void {
    if (this.tree !== undefined && this.tree !== tree) this.fresh.clear();
    this.tree = tree;
    this.fresh.set(selection, checksum);
  }

  /**
   * Writes what was learnt, when every file hash it was made of is remembered too (`settled`): a
   * checksum holds no longer than they do, and an edit later needs them.
   */
  save(settled: boolean): void {
    if (this.tree === undefined || this.fresh.size === 0 || !settled) return;
    const kept = this.saved?.tree === this.tree ? this.saved.checksums : {};
    this.folder.write(this.key, { version: 1, tree: this.tree, checksums: { ...kept, ...Object.fromEntries(this.fresh) } } satisfies SavedSelections);
  }
}

/** What is remembered of one context directory, each part read when first asked for. */
export class ContextMemory {
  private fileHashes?: FileHashes;
  private selectionMemo?: SelectionMemo;

  constructor(
    private readonly folder: HintFolder,
    private readonly root: string,
    private readonly key: string,
    private readonly settledMs: number,
    /** The stamps of the context's files as walked; undefined if it was not. */
    private readonly live: () => ReadonlyMap<string, string> | undefined,
  ) {}

  hashes(): FileHashes {
    this.fileHashes ??= new FileHashes(
      this.folder,
      this.key,
      this.folder.read(this.key, (doc) => ((doc as Saved).version === 4 ? new Map(Object.entries((doc as Saved).files)) : undefined)) ?? new Map<string, [string, string]>(),
      this.settledMs,
    );
    return this.fileHashes;
  }

  selections(): SelectionMemo {
    const key = `${this.key}-selections`;
    this.selectionMemo ??= new SelectionMemo(this.folder, key, this.folder.read(key, (doc) => ((doc as SavedSelections).version === 1 ? (doc as SavedSelections) : undefined)));
    return this.selectionMemo;
  }

  save(): void {
    // A context never walked says nothing about which remembered hashes still hold.
    const stamps = this.live();
    if (!stamps) return;
    const settled = this.fileHashes?.settle(this.root) ?? true;
    this.fileHashes?.save(stamps);
    this.selectionMemo?.save(settled);
  }
}

/** What is remembered of every context directory, kept under the cache directory (`context-hashes/`). */
export class ContextHashStore {
  private readonly open: ContextMemory[] = [];
  private readonly folder: HintFolder;

  constructor(
    cacheDir: string,
    /** How old a file's last change must be for what is learnt of it to be remembered (tests use 0). */
    private readonly settledMs = SETTLED_MS,
  ) {
    this.folder = new HintFolder(cacheDir, 'context-hashes');
  }

  /** Forgets everything remembered (`prune --all`). Only hints: a writer meanwhile loses its update, nothing else. */
  clear(): Promise<void> {
    return this.folder.clear();
  }

  /** What is remembered of the context at `root`; `live` gives the stamps of its files as walked, when saving. */
  forContext(root: string, live: () => ReadonlyMap<string, string> | undefined): ContextMemory {
    const memory = new ContextMemory(this.folder, root, sha256(resolve(root)).slice(7), this.settledMs, live);
    this.open.push(memory);
    return memory;
  }

  /** Remembers what every context this build opened taught. */
  saveAll(): void {
    for (const memory of this.open) memory.save();
  }
}

const hashBuffer = Buffer.allocUnsafe(1 << 20);

/** sha256 of a file's content. */
export function hashFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, hashBuffer, 0, hashBuffer.length, null);
      if (n === 0) break;
      hash.update(hashBuffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return 'sha256:' + hash.digest('hex');
}
