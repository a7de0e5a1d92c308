import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { IgnoreRules } from '../../worker/file/ignore-rules.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { hashFile, type ContextHashStore, type ContextMemory } from './file-hashes.js';
import { findOutputDigest, parseFindOutput, walkHere, walkWithFind, type ContextEntry, type WalkedTree } from './context-walk.js';
import type { Digest } from '../../oci/digest.js';

export type { ContextEntry, EntryType } from './context-walk.js';

export class ContextError extends ExpectedError {}

/**
 * The local build context: a directory filtered by `.dockerignore`. It is walked once, on first use,
 * and file contents are hashed only when a COPY selects them, and then only when `hashes` does not
 * remember the file with the same size, ctime and inode.
 */
export class BuildContext {
  private tree?: WalkedTree;
  /** find's records, parsed only when needed (`walked`). */
  private found?: Buffer;
  private foundDigest?: string;
  private loading?: Promise<void>;
  private pathIndex?: string[];
  private readonly digests = new Map<string, string>();
  private readonly memory?: ContextMemory;

  constructor(
    readonly root: string,
    readonly ignore: IgnoreRules,
    /** Where the ignore rules came from, for messages. */
    readonly ignoreFile?: string,
    hashStore?: ContextHashStore,
  ) {
    this.memory = hashStore?.forContext(root, () => this.tree?.stamps);
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

  /**
   * A context known by its entries and its files' digests alone (an uploaded context: the farm's
   * store holds the contents), named `root` but never read from a disk.
   */
  static fromEntries(root: string, ignore: IgnoreRules, ignoreFile: string | undefined, entries: Iterable<ContextEntry>, digests: Iterable<readonly [string, string]>): BuildContext {
    const ctx = new BuildContext(root, ignore, ignoreFile);
    ctx.tree = { entries: new Map([...entries].map((e) => [e.path, e])), stamps: new Map() };
    ctx.loading = Promise.resolve();
    for (const [path, digest] of digests) ctx.digests.set(path, digest);
    return ctx;
  }

  /**
   * Walks the context in the background (with find), so that what runs meanwhile is not held up.
   * Planning awaits it before it reads the context.
   */
  load(): Promise<void> {
    this.loading ??= walkWithFind(this.root, this.ignore).then((records) => {
      if (!this.tree) this.found = records;
    });
    return this.loading;
  }

  /** The walk's result: find's records parsed, else a walk here and now. */
  private walked(): WalkedTree {
    this.tree ??= this.found !== undefined ? parseFindOutput(this.found, this.ignore) : walkHere(this.root, this.ignore);
    return this.tree;
  }

  /**
   * The checksum of one selection from the context (`compute`s), remembered across builds while find
   * gives the same records: a no-op build then neither parses the walk nor hashes a file.
   */
  rememberedChecksum(selection: string, compute: () => Digest): Digest {
    const memo = this.found !== undefined ? this.memory?.selections() : undefined;
    if (!memo) return compute();
    this.foundDigest ??= findOutputDigest(this.found!, this.ignore);
    const known = memo.get(this.foundDigest, selection) as Digest | undefined;
    if (known) return known;
    const checksum = compute();
    memo.set(this.foundDigest, selection, checksum);
    return checksum;
  }

  /** Every non-ignored path of the context, keyed by relative path. */
  entries(): Map<string, ContextEntry> {
    return this.walked().entries;
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
      const stamp = this.walked().stamps.get(relPath);
      const hashes = this.memory?.hashes();
      d = stamp === undefined ? undefined : hashes?.get(relPath, stamp);
      if (d === undefined) {
        d = hashFile(join(this.root, relPath));
        if (stamp !== undefined) hashes?.set(relPath, stamp, d);
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

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Cleans a COPY source the way BuildKit does: relative to the context root, never above it. */
export function cleanContextPath(src: string): string {
  const cleaned = posix.normalize('/' + src).replace(/^\/+/, '').replace(/\/+$/, '');
  return cleaned === '.' ? '' : cleaned;
}
