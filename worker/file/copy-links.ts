import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { HintFolder } from '../../cache/hint-folder.js';
import { join, resolve } from 'node:path';
import { SETTLED_MS, statStamp } from './file-stamp.js';

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

interface Saved {
  version: 2;
  /** Source-relative path to its latest copies, newest first. */
  files: Record<string, Copy[]>;
}

/** The earlier copies from one source directory. */
export class SourceLinks {
  constructor(
    private readonly files: Map<string, Copy[]>,
    private readonly settledMs: number,
  ) {}

  /** Where earlier copies of `rel` lie, if `rel` has not changed since (`st`: its lstat now). */
  candidates(rel: string, st: Stats): string[] {
    const stamp = statStamp(st);
    return (this.files.get(rel) ?? []).filter((c) => c[0] === stamp).map((c) => join(c[1], c[2]));
  }

  /** Whether an earlier copy (lstat'ed) is what this copy would make. */
  static matches(found: Stats, want: Intended): boolean {
    return found.isFile() && (found.mode & 0o7777) === want.mode && found.uid === want.uid && found.gid === want.gid && Math.round(found.mtimeMs) === want.mtime.getTime() && found.size === want.size;
  }

  /** The record of a file just copied from `st`, or undefined while it is too fresh to trust. */
  record(rel: string, st: Stats, dest: string): CopiedFile | undefined {
    return Date.now() - st.ctimeMs < this.settledMs ? undefined : { rel, stamp: statStamp(st), dest };
  }
}

/** The index of earlier copies, one file per source directory under `<stateDir>/copy-links/`. */
export class CopyLinks {
  private readonly folder: HintFolder;

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
    return this.folder.read(this.key(sourceDir), (doc) => ((doc as Saved).version === 2 ? new Map(Object.entries((doc as Saved).files)) : undefined)) ?? new Map();
  }

  forSource(sourceDir: string): SourceLinks {
    return new SourceLinks(this.load(sourceDir), this.settledMs);
  }

  /** Remembers that `copied` now lie in `snapshotDir` (the step's adopted snapshot). */
  remember(sourceDir: string, snapshotDir: string, copied: CopiedFile[]): void {
    if (copied.length === 0) return;
    const files = this.load(sourceDir);
    for (const c of copied) {
      const others = (files.get(c.rel) ?? []).filter((k) => k[0] === c.stamp && !(k[1] === snapshotDir && k[2] === c.dest));
      files.set(c.rel, [[c.stamp, snapshotDir, c.dest] as Copy, ...others].slice(0, MAX_COPIES));
    }
    // Only an optimisation: if the write fails, the next build copies.
    this.folder.write(this.key(sourceDir), { version: 2, files: Object.fromEntries(files) } satisfies Saved);
  }
}
