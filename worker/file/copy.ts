import { createReadStream } from 'node:fs';
import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, utimesSync, type Stats } from 'node:fs';
import { copyFile, lstat, open, readdir, readlink, rm, stat, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { extractLayer } from '../layers/layer-extractor.js';
import type { ResolvedUser } from '../rootfs/user.js';
import { pathInRoot } from '../rootfs/user.js';
import { applyChmod, createdDirMode, type Chmod } from './file-mode.js';
import { makeDirs } from '../rootfs/make-dirs.js';
import { SourceLinks, type CopiedFile, type CopyLinks } from './copy-links.js';

export class CopyError extends Error {}

/** Where a COPY reads from: a local directory limited to allowed paths, or a mounted root filesystem. */
export interface CopySourceRoot {
  dir: string;
  /** For local inputs: the paths `.dockerignore` lets through. */
  allowed?: ReadonlySet<string>;
}

export interface CopyOptions {
  /** `--chown`; without it local files become root's and files from images keep their owners. */
  owner?: ResolvedUser;
  /** `--chmod`, applied to every copied entry. */
  chmod?: Chmod;
  exclude: (rel: string) => boolean;
  parents: boolean;
  /** ADD: unpack tar archives. */
  unpack: boolean;
  /** Local sources: hard-link files unchanged since an earlier copy from its snapshot. */
  links?: LinkSession;
}

/** One step's use of `CopyLinks`: where new files physically land, and what it copied. */
export interface LinkSession {
  index: CopyLinks;
  /** The mount's `linkRoot`: `root`'s new entries physically live here. */
  linkRoot: string;
  /** Inodes linked by this step: two paths of one diff must not share one (the tar would make a link). */
  usedInodes: Set<number>;
  /** Per source directory, the files copied or linked, for the index once the snapshot is stored. */
  copied: Map<string, CopiedFile[]>;
}

const hasWildcard = (s: string): boolean => /[*?[]/.test(s);

function owners(opts: CopyOptions, src: CopySourceRoot, uid: number, gid: number): [number, number] {
  if (opts.owner) return [opts.owner.uid, opts.owner.gid];
  return src.allowed ? [0, 0] : [uid, gid];
}

/** Lists the paths of `src` that `pattern` matches (wildcards as in BuildKit). */
async function matchPattern(src: CopySourceRoot, pattern: string): Promise<string[]> {
  const cleaned = posix.normalize('/' + pattern).slice(1).replace(/\/+$/, '');
  if (!hasWildcard(cleaned)) {
    if (cleaned === '') return [''];
    const exists = src.allowed ? src.allowed.has(cleaned) || [...src.allowed].some((p) => p.startsWith(cleaned + '/')) : await lstat(pathInRoot(src.dir, cleaned)).then(() => true, () => false);
    if (!exists) throw new CopyError(`${pattern}: not found`);
    return [cleaned];
  }
  // Loaded for a wildcard only: most COPYs have none.
  const { default: picomatch } = await import('picomatch');
  const match = picomatch(cleaned, { dot: true, noextglob: true, nobrace: true });
  if (src.allowed) return [...src.allowed].filter((p) => match(p)).sort();
  // In a root filesystem, walk from the part of the pattern before its first wildcard.
  const segments = cleaned.split('/');
  const fixed = segments.slice(0, segments.findIndex(hasWildcard)).join('/');
  const depth = cleaned.includes('**') ? Infinity : segments.length;
  const out: string[] = [];
  const walk = async (rel: string, level: number): Promise<void> => {
    const names = await readdir(join(src.dir, rel)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (match(child)) out.push(child);
      if (level + 1 < depth && (await lstat(join(src.dir, child))).isDirectory()) await walk(child, level + 1);
    }
  };
  await walk(fixed, fixed ? fixed.split('/').length : 0);
  return out;
}

async function isArchive(path: string): Promise<'gzip' | 'tar' | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (bytesRead >= 262 && buf.subarray(257, 262).toString() === 'ustar') return 'tar';
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Runs at most `n` tasks at once: copying is bound by I/O latency, not by one file at a time. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

class Copier {
  private readonly dirTimes: [string, Date][] = [];
  private readonly io = limiter(32);
  private readonly earlier?: SourceLinks;

  constructor(
    private readonly root: string,
    private readonly src: CopySourceRoot,
    private readonly opts: CopyOptions,
  ) {
    if (opts.links && src.allowed) this.earlier = opts.links.index.forSource(src.dir);
  }

  /** Remembers a file copied from a local source, for the next build's `linkEarlier`. */
  private noteCopied(rel: string, st: Stats, target: string): void {
    const links = this.opts.links;
    if (!links || !this.earlier || !target.startsWith(this.root + '/')) return;
    const record = this.earlier.record(rel, st, target.slice(this.root.length + 1));
    if (!record) return;
    const list = links.copied.get(this.src.dir) ?? [];
    list.push(record);
    links.copied.set(this.src.dir, list);
  }

  /**
   * Hard-links `target` (in a directory this copy created) from an earlier copy of the same unchanged
   * source file, when that copy has exactly the mode, owner, mtime and size this one would give.
   */
  private linkEarlier(rel: string, target: string, st: Stats): boolean {
    const links = this.opts.links;
    if (!links || !this.earlier || !target.startsWith(this.root + '/')) return false;
    const [uid, gid] = owners(this.opts, this.src, st.uid, st.gid);
    const mode = this.opts.chmod ? applyChmod(this.opts.chmod, st.mode & 0o7777, false) : st.mode & 0o7777;
    // Synchronous: two cheap metadata calls, where thread-pool round trips would cost more than the work.
    for (const from of this.earlier.candidates(rel, st)) {
      const found = lstatSync(from, { throwIfNoEntry: false });
      if (!found || links.usedInodes.has(found.ino) || !SourceLinks.matches(found, { mode, uid, gid, mtime: st.mtime, size: st.size })) continue;
      links.usedInodes.add(found.ino);
      try {
        // `target` is normalised and inside the root (checked above): its rest goes under linkRoot as it is.
        linkSync(from, links.linkRoot + target.slice(this.root.length));
        return true;
      } catch {
        // Gone meanwhile, or not linkable here: try the next, else copy.
      }
    }
    return false;
  }

  private allowed(rel: string): boolean {
    return !this.src.allowed || this.src.allowed.has(rel);
  }

  /**
   * Directories the copy creates (the destination and its missing parents) get `--chown` and 0755,
   * or an octal `--chmod`'s permission bits, as BuildKit's copy creates them.
   */
  private createDirs(abs: string): Promise<string[]> {
    return makeDirs(abs, createdDirMode(this.opts.chmod), this.opts.owner);
  }

  /** Makes the parents of a destination inside the root filesystem, never following a symlink out of it. */
  private async target(dest: string): Promise<string> {
    const abs = pathInRoot(this.root, dest);
    await this.createDirs(dirname(abs));
    return abs;
  }

  /**
   * Owner, mode and time of a new entry; what creating it as root already got right is skipped.
   * Synchronous, like the stat calls: metadata calls cost less than a thread-pool round trip.
   */
  private finish(path: string, uid: number, gid: number, mode: number, mtime: Date, kind: 'file' | 'dir' | 'link'): void {
    const [u, g] = owners(this.opts, this.src, uid, gid);
    const chowned = u !== 0 || g !== 0;
    if (chowned) lchownSync(path, u, g);
    if (kind === 'link') return lutimesSync(path, mtime, mtime);
    // copyFile kept a file's mode, but a chown drops set-id bits; a directory was made under the umask.
    if (this.opts.chmod !== undefined || kind === 'dir' || (chowned && mode & 0o6000)) chmodSync(path, this.opts.chmod ? applyChmod(this.opts.chmod, mode, kind === 'dir') : mode);
    utimesSync(path, mtime, mtime);
  }

  /**
   * Copies `rel` of the source to `target`, an absolute path already resolved inside the root.
   * `inNewDir`: the copy created target's directory, so nothing can be in the way (no lookup needed).
   */
  async copyEntry(rel: string, target: string, relToMatch: string, inNewDir: boolean): Promise<void> {
    if (relToMatch !== '' && this.opts.exclude(relToMatch)) return;
    if (!this.allowed(rel)) return;
    const abs = join(this.src.dir, rel);
    // Synchronous: an lstat costs microseconds, a thread-pool round trip per file many times that.
    const st = lstatSync(abs);
    const existing = inNewDir ? undefined : lstatSync(target, { throwIfNoEntry: false });
    if (existing && !(existing.isDirectory() && st.isDirectory())) await rm(target, { recursive: true, force: true });
    if (st.isDirectory()) {
      if (!existing) mkdirSync(target, { mode: st.mode & 0o7777 });
      const names = readdirSync(abs);
      await Promise.all(names.map((name) => this.copyEntry(rel ? `${rel}/${name}` : name, join(target, name), relToMatch ? `${relToMatch}/${name}` : name, !existing)));
      this.finish(target, st.uid, st.gid, st.mode & 0o7777, st.mtime, 'dir');
      this.dirTimes.push([target, st.mtime]);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(abs), target);
      this.finish(target, st.uid, st.gid, 0, st.mtime, 'link');
    } else if (st.isFile()) {
      // A link is two metadata calls: only copies queue for the I/O limit.
      if (!(inNewDir && this.linkEarlier(rel, target, st))) {
        await this.io(async () => {
          await copyFile(abs, target);
          this.finish(target, st.uid, st.gid, st.mode & 0o7777, st.mtime, 'file');
        });
      }
      this.noteCopied(rel, st, target);
    }
  }

  /** COPY semantics for one matched source: a directory's contents go into dest, a file to dest or into it. */
  async copyMatch(rel: string, dest: string, destIsDir: boolean): Promise<void> {
    // The matched path itself is followed if it is a symlink, within the source root.
    const abs = this.src.allowed ? join(this.src.dir, rel) : pathInRoot(this.src.dir, rel);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw new CopyError(`${rel || '.'}: not found`);
    const base = this.opts.parents ? posix.join(dest, rel) : dest;
    if (st.isDirectory()) {
      const srcRel = this.src.allowed ? rel : posix.relative(this.src.dir, abs);
      const target = pathInRoot(this.root, base);
      const created = await this.createDirs(target);
      const names = await readdir(abs);
      const inNewDir = created.length > 0 && created[created.length - 1] === resolve(target);
      await Promise.all(names.map((name) => this.copyEntry(srcRel ? `${srcRel}/${name}` : name, join(target, name), name, inNewDir)));
      return;
    }
    const fileDest = this.opts.parents ? base : destIsDir ? posix.join(dest, basename(rel)) : dest;
    if (this.opts.unpack) {
      const kind = await isArchive(abs);
      if (kind) {
        // As BuildKit unpacks: the destination made 0755 whatever --chmod says, --chown for it and every entry.
        const into = pathInRoot(this.root, dest);
        await makeDirs(into, 0o755, this.opts.owner);
        await extractLayer(createReadStream(abs), into, { gzip: kind === 'gzip', whiteouts: false, ...(this.opts.owner ? { owner: this.opts.owner } : {}) });
        return;
      }
    }
    const target = await this.target(fileDest);
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new CopyError(`cannot copy ${rel} to ${fileDest}: it is a directory (end the destination with / to copy into it)`);
    if (existing) await rm(target, { force: true });
    await copyFile(abs, target);
    this.finish(target, st.uid, st.gid, st.mode & 0o7777, st.mtime, 'file');
  }

  async finishDirTimes(): Promise<void> {
    for (const [path, mtime] of this.dirTimes.reverse()) await utimes(path, mtime, mtime).catch(() => undefined);
  }
}

/** Copies `patterns` from `src` to `dest` inside the root filesystem at `root`. */
export async function copyInto(root: string, src: CopySourceRoot, patterns: string[], dest: string, destForcedDir: boolean, opts: CopyOptions): Promise<void> {
  const matches: string[] = [];
  for (const p of patterns) matches.push(...(await matchPattern(src, p)));
  const destAbs = pathInRoot(root, dest);
  const destExistsAsDir = await stat(destAbs).then((s) => s.isDirectory(), () => false);
  const destIsDir = destForcedDir || dest.endsWith('/') || destExistsAsDir || patterns.some(hasWildcard);
  const copier = new Copier(root, src, opts);
  for (const m of matches) await copier.copyMatch(m, dest, destIsDir);
  await copier.finishDirTimes();
}
