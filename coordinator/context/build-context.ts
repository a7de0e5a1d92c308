import { closeSync, existsSync, readFileSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, posix } from 'node:path';
import { IgnoreRules } from '../../worker/file/ignore-rules.js';
import { ExpectedError } from '../../oci/expected-error.js';
import type { ContextHashStore, FileHashes } from './file-hashes.js';
import { statStamp } from '../../worker/file/file-stamp.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** What a COPY sees of one context path. mtime is left out on purpose: touching a file must not change a key. */
export interface ContextEntry {
  /** Slash-separated, relative to the context root, no leading `./`. */
  path: string;
  type: EntryType;
  /** Permission bits (including setuid/setgid/sticky). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget?: string;
}

export class ContextError extends ExpectedError {}

function entryType(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * The local build context: a directory filtered by `.dockerignore`. It is walked once, on first use,
 * and file contents are hashed only when a COPY selects them, and then only when `hashes` does not
 * remember the file with the same size, mtime, ctime and inode.
 */
export class BuildContext {
  private entryMap?: Map<string, ContextEntry>;
  private pathIndex?: string[];
  private readonly digests = new Map<string, string>();
  /** Each regular file's stamp from the walk: what a remembered hash must match. */
  private readonly stamps = new Map<string, string>();
  private readonly ctimes = new Map<string, number>();
  private readonly hashes?: FileHashes;
  /** The root with one trailing slash, which every walked path is appended to. */
  private readonly base: string;

  constructor(
    readonly root: string,
    readonly ignore: IgnoreRules,
    /** Where the ignore rules came from, for messages. */
    readonly ignoreFile?: string,
    hashStore?: ContextHashStore,
  ) {
    this.hashes = hashStore?.forContext(root, () => this.stamps);
    this.base = root.endsWith('/') ? root : `${root}/`;
  }

  /**
   * Opens a context directory. The ignore file is `<Dockerfile>.dockerignore` beside the Dockerfile
   * when present, else `.dockerignore` at the context root, as in BuildKit.
   */
  static open(root: string, dockerfilePath?: string, hashes?: ContextHashStore): BuildContext {
    let st: Stats;
    try {
      st = statSync(root);
    } catch {
      throw new ContextError(`build context ${root} does not exist`);
    }
    if (!st.isDirectory()) throw new ContextError(`build context ${root} is not a directory`);
    const candidates = [dockerfilePath ? join(dirname(dockerfilePath), basename(dockerfilePath) + '.dockerignore') : undefined, join(root, '.dockerignore')];
    for (const file of candidates) {
      if (file && existsSync(file)) {
        const text = readFileSync(file, 'utf8');
        return new BuildContext(root, IgnoreRules.fromText(text), file, hashes);
      }
    }
    return new BuildContext(root, new IgnoreRules([]), undefined, hashes);
  }

  /** Every non-ignored path of the context, keyed by relative path. */
  entries(): Map<string, ContextEntry> {
    if (!this.entryMap) {
      this.entryMap = new Map();
      this.walk('');
    }
    return this.entryMap;
  }

  private walk(dir: string): void {
    // Paths by concatenation: path.join, normalising each of thousands, was a fifth of the walk.
    const abs = dir === '' ? this.base : this.base + dir;
    const names = readdirSync(abs).sort();
    for (const name of names) {
      const rel = dir === '' ? name : `${dir}/${name}`;
      const st = lstatSync(this.base + rel);
      const type = entryType(st);
      const ignored = this.ignore.ignores(rel);
      if (!ignored) {
        const entry: ContextEntry = { path: rel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0 };
        if (type === 'symlink') entry.linkTarget = readlinkSync(this.base + rel);
        if (type === 'file') {
          this.stamps.set(rel, statStamp(st));
          this.ctimes.set(rel, st.ctimeMs);
        }
        this.entryMap!.set(rel, entry);
      }
      // An ignored directory is skipped unless an exception pattern could bring something inside it back.
      if (type === 'dir' && (!ignored || this.ignore.hasExceptions)) this.walk(rel);
    }
  }

  /** Every entry path in byte order, so that a directory's subtree is one contiguous range. */
  sortedPaths(): string[] {
    // The default sort compares UTF-16 code units, as `byteOrder` does, without calling back into JS.
    this.pathIndex ??= [...this.entries().keys()].sort();
    return this.pathIndex;
  }

  /** `root` itself (when it is an entry) and every path below it. */
  subtree(root: string): string[] {
    const paths = this.sortedPaths();
    if (root === '') return paths;
    const prefix = root + '/';
    const out = this.entries().has(root) ? [root] : [];
    let lo = 0;
    let hi = paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byteOrder(paths[mid]!, prefix) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < paths.length && paths[i]!.startsWith(prefix); i++) out.push(paths[i]!);
    return out;
  }

  /** sha256 of a regular file's content, computed once. */
  fileDigest(relPath: string): string {
    let d = this.digests.get(relPath);
    if (d === undefined) {
      const stamp = this.stamps.get(relPath);
      d = stamp === undefined ? undefined : this.hashes?.get(relPath, stamp);
      if (d === undefined) {
        d = hashFile(join(this.root, relPath));
        if (stamp !== undefined) this.hashes?.set(relPath, stamp, d, this.ctimes.get(relPath)!);
      }
      this.digests.set(relPath, d);
    }
    return d;
  }

  /**
   * Resolves symlinks in `relPath` without ever leaving the context, the way a chroot would:
   * an absolute target is taken relative to the context root and `..` stops at the root.
   */
  resolveInside(relPath: string): string {
    const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
    const done: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = [...done, part].join('/');
      const entry = this.entries().get(candidate);
      if (entry?.type === 'symlink' && entry.linkTarget !== undefined) {
        if (++hops > 40) throw new ContextError(`too many levels of symbolic links at ${candidate}`);
        const target = entry.linkTarget;
        if (target.startsWith('/')) done.length = 0;
        parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
        continue;
      }
      done.push(part);
    }
    return done.join('/');
  }
}

const hashBuffer = Buffer.allocUnsafe(1 << 20);

function hashFile(path: string): string {
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

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Cleans a COPY source the way BuildKit does: relative to the context root, never above it. */
export function cleanContextPath(src: string): string {
  const cleaned = posix.normalize('/' + src).replace(/^\/+/, '').replace(/\/+$/, '');
  return cleaned === '.' ? '' : cleaned;
}
