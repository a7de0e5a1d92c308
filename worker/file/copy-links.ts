import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { HintFolder } from '../../cache/hint-folder.js';
import { resolve } from 'node:path';
import { changedWithin, SETTLED_MS, statStamp } from './file-stamp.js';

/**
 * Where earlier COPYs from a local directory put each file: a rebuild after one edit then hard-links
 * the unchanged files from the earlier step's snapshot instead of copying them again.
 *
 * A file is taken as unchanged while its size, mtime, ctime and inode are (any write moves ctime), as
 * the context hash cache does; the earlier copy is only used if its mode, owner, mtime and size are
 * exactly what this copy would give. Snapshots are never written after they are made, so sharing
 * their inodes is safe; a snapshot pruned meanwhile just means the file is copied.
 */

/** A file this copy made: its source path and stamp, and where it went (relative to the mount). */
export interface CopiedFile {
  rel: string;
  stamp: string;
  dest: string;
}

/** What a copy must give a file: the earlier one is used only if it matches all of it. */
export interface Intended {
  mode: number;
  uid: number;
  gid: number;
  /** What `utimes` is given: a Date, so whole milliseconds. */
  mtime: Date;
  size: number;
}


/** [stamp of the source, snapshot directory, path inside it] */
type Copy = [string, string, string];

/** Copies kept per source file: one per COPY of it with its own destination metadata (e.g. --chmod). */
const MAX_COPIES = 4;

/** A copy as saved: the snapshot directory by its index in `dirs`, the path left out when it is the source's. */
type SavedCopy = [string, number] | [string, number, string];

interface Saved {
  version: 3;
  /** The snapshot directories, each written once rather than once per file (40% of the size). */
  dirs: string[];
  /** Source-relative path to its latest copies, newest first. */
  files: Record<string, SavedCopy[]>;
}

function decode(doc: unknown): Map<string, Copy[]> | undefined {
  const saved = doc as Saved;
  if (saved.version !== 3 || !Array.isArray(saved.dirs)) return undefined;
  const files = new Map<string, Copy[]>();
  for (const [rel, copies] of Object.entries(saved.files)) files.set(rel, copies.map(([stamp, dir, dest]) => [stamp, saved.dirs[dir]!, dest ?? rel]));
  return files;
}

function encode(files: Map<string, Copy[]>): Saved {
  const dirs = new Map<string, number>();
  const index = (dir: string): number => dirs.get(dir) ?? (dirs.set(dir, dirs.size), dirs.size - 1);
  const saved: Record<string, SavedCopy[]> = {};
  for (const [rel, copies] of files) saved[rel] = copies.map(([stamp, dir, dest]) => (dest === rel ? [stamp, index(dir)] : [stamp, index(dir), dest]));
  return { version: 3, dirs: [...dirs.keys()], files: saved };
}

/** The earlier copies from one source directory. */
export class SourceLinks {
  constructor(
    private readonly files: Map<string, Copy[]>,
    private readonly settledMs: number,
  ) {}

  /** Where earlier copies of `rel` lie, if `rel` has not changed since (`st`: its lstat now), newest first. */
  *candidates(rel: string, st: Stats): Generator<string> {
    const stamp = statStamp(st);
    // Both parts are recorded normalised (an absolute directory, a relative path): no join needed,
    // and only as many as are tried, which is usually one.
    for (const c of this.files.get(rel) ?? []) if (c[0] === stamp) yield `${c[1]}/${c[2]}`;
  }

  /** Whether an earlier copy (lstat'ed) is what this copy would make. */
  static matches(found: Stats, want: Intended): boolean {
    return found.isFile() && (found.mode & 0o7777) === want.mode && found.uid === want.uid && found.gid === want.gid && Math.round(found.mtimeMs) === want.mtime.getTime() && found.size === want.size;
  }

  /** The record of a file just copied from `st`, or undefined while it is too fresh to trust. */
  record(rel: string, st: Stats, dest: string): CopiedFile | undefined {
    return changedWithin(st.ctimeMs, this.settledMs) ? undefined : { rel, stamp: statStamp(st), dest };
  }
}

/** The index of earlier copies, one file per source directory under `<stateDir>/copy-links/`. */
export class CopyLinks {
  private readonly folder: HintFolder;
  /** Each source's index as read at its first COPY here, updated by `remember`: read once per build, not per step. */
  private readonly loaded = new Map<string, Map<string, Copy[]>>();

  constructor(
    stateDir: string,
    /** How old a source file's last change must be for its copy to be remembered (tests use 0). */
    private readonly settledMs = SETTLED_MS,
  ) {
    this.folder = new HintFolder(stateDir, 'copy-links');
  }

  /** Forgets every earlier copy (`prune --all`). Only hints: a writer meanwhile loses its update, nothing else. */
  clear(): Promise<void> {
    return this.folder.clear();
  }

  private key(sourceDir: string): string {
    return createHash('sha256').update(resolve(sourceDir)).digest('hex');
  }

  private load(sourceDir: string): Map<string, Copy[]> {
    let files = this.loaded.get(sourceDir);
    if (!files) {
      files = this.folder.read(this.key(sourceDir), decode) ?? new Map<string, Copy[]>();
      this.loaded.set(sourceDir, files);
    }
    return files;
  }

  forSource(sourceDir: string): SourceLinks {
    return new SourceLinks(this.load(sourceDir), this.settledMs);
  }

  /**
   * Remembers that `copied` now lie in `snapshotDir` (the step's adopted snapshot). A build that wrote
   * the same source's index meanwhile loses its update: it only costs a copy later.
   */
  remember(sourceDir: string, snapshotDir: string, copied: CopiedFile[]): void {
    if (copied.length === 0) return;
    const files = this.load(sourceDir);
    // Plain loops: this runs once per build over every file, mostly before V8 has optimised it.
    for (const c of copied) {
      const kept: Copy[] = [[c.stamp, snapshotDir, c.dest]];
      for (const k of files.get(c.rel) ?? []) {
        if (kept.length === MAX_COPIES) break;
        if (k[0] === c.stamp && !(k[1] === snapshotDir && k[2] === c.dest)) kept.push(k);
      }
      files.set(c.rel, kept);
    }
    // Only an optimisation: if the write fails, the next build copies.
    this.folder.write(this.key(sourceDir), encode(files));
  }
}
