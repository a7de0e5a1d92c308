import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { childProcess } from '../../oci/lazy-modules.js';
import type { IgnoreRules } from '../../worker/file/ignore-rules.js';

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

/** Every non-ignored path of a context directory, and each regular file's stamp. */
export interface WalkedTree {
  entries: Map<string, ContextEntry>;
  /** What a remembered content hash must match (`fileStamp`). */
  stamps: Map<string, string>;
}

/**
 * What must be unchanged for a file's content to be taken as unchanged, as BuildKit's contenthash keys
 * it: size, mtime and ctime in nanoseconds, and inode. Any write moves ctime, which only the kernel sets.
 */
const fileStamp = (size: string | bigint, mtimeNs: string | bigint, ctimeNs: string | bigint, ino: string | bigint): string => `${size}:${mtimeNs}:${ctimeNs}:${ino}`;

/** A file's stamp as the walk here takes it (`lstatSync` with `bigint: true`). */
export const statStamp = (st: BigIntStats): string => fileStamp(st.size, st.mtimeNs, st.ctimeNs, st.ino);

/** The ctime a stamp holds, in milliseconds. */
export const stampCtimeMs = (stamp: string): number => Number(stamp.split(':')[2]) / 1e6;

/** The root with one trailing slash, which every walked path is appended to. */
const withSlash = (root: string): string => (root.endsWith('/') ? root : `${root}/`);

function entryType(st: BigIntStats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** Adds one walked path unless ignored; true when the walk should go below it. */
function visit(tree: WalkedTree, ignore: IgnoreRules, entry: ContextEntry, stamp: string | undefined): boolean {
  const ignored = ignore.ignores(entry.path);
  if (!ignored) {
    tree.entries.set(entry.path, entry);
    if (stamp !== undefined) tree.stamps.set(entry.path, stamp);
  }
  // An ignored directory is skipped unless an exception pattern could bring something inside it back.
  return entry.type === 'dir' && (!ignored || ignore.hasExceptions);
}

const emptyTree = (): WalkedTree => ({ entries: new Map(), stamps: new Map() });

/** The walk in this process: readdirSync and lstatSync, each directory's names in order. */
export function walkHere(root: string, ignore: IgnoreRules): WalkedTree {
  const base = withSlash(root);
  const tree = emptyTree();
  const walk = (dir: string): void => {
    // Paths by concatenation: path.join, normalising each of thousands, was a fifth of the walk.
    for (const name of readdirSync(dir === '' ? base : base + dir).sort()) {
      const rel = dir === '' ? name : `${dir}/${name}`;
      // In nanoseconds, as find gives them.
      const st = lstatSync(base + rel, { bigint: true });
      const type = entryType(st);
      const entry: ContextEntry = { path: rel, type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), size: type === 'file' ? Number(st.size) : 0 };
      if (type === 'symlink') entry.linkTarget = readlinkSync(base + rel);
      if (visit(tree, ignore, entry, type === 'file' ? statStamp(st) : undefined)) walk(rel);
    }
  };
  walk('');
  return tree;
}

/**
 * One record per path: type, octal mode, uid, gid, size, mtime and ctime (seconds with a fraction),
 * inode; then the path below the root and the link target, each ended by NUL (which no name holds).
 */
const FORMAT = '%y %m %U %G %s %T@ %C@ %i\\0%P\\0%l\\0';
const TYPES: Record<string, EntryType> = { f: 'file', d: 'dir', l: 'symlink' };

/** find's `seconds.fraction` in nanoseconds, written as BigInt writes them. */
function nanos(t: string): string {
  const dot = t.indexOf('.');
  if (dot < 0) return t === '0' ? '0' : `${t}000000000`;
  const ns = t.slice(dot + 1, dot + 10).padEnd(9, '0');
  const sec = t.slice(0, dot);
  return sec === '0' ? String(Number(ns)) : sec + ns;
}

/** `fnmatch` text that matches `s` literally. */
const literal = (s: string): string => s.replace(/[\\*?[\]]/g, '\\$&');

/** A path or name with no wildcard, escape, `.`, `..` or empty segment: it matches only itself. */
const plain = (s: string): boolean => !/[*?[\\]/.test(s) && s.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');

/**
 * find arguments that skip what the rules ignore as a whole, so that find does not walk a `.git` or
 * `node_modules` only for us to drop it: patterns naming one path (`node_modules`, `/dist/`), or one
 * name anywhere (`**\/node_modules`). Other patterns are applied to find's records, as to the walk's.
 */
function pruning(start: string, ignore: IgnoreRules): string[] {
  if (ignore.hasExceptions) return [];
  const tests: string[][] = [];
  for (const raw of ignore.patterns) {
    const p = raw.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
    const name = p.startsWith('**/') ? p.slice(3) : undefined;
    if (name !== undefined) {
      if (plain(name) && !name.includes('/')) tests.push(['-name', literal(name)]);
    } else if (plain(p)) tests.push(['-path', literal(`${start}/${p}`)]);
  }
  if (tests.length === 0) return [];
  return ['(', ...tests.flatMap((t, i) => (i === 0 ? t : ['-o', ...t])), ')', '-prune', '-o'];
}

/**
 * The same walk's records from GNU find, run in a process of its own on the other core while planning
 * goes on: a fresh Node process pays about 10 µs for each lstatSync, find about 2. Parsed only when
 * needed (`parseFindOutput`): a no-op build compares them whole with the last build's instead.
 * Undefined when find is missing, fails (a directory it cannot read) or meets a name that is not
 * UTF-8: the walk here then reports or handles it as it always has.
 */
export function walkWithFind(root: string, ignore: IgnoreRules): Promise<Buffer | undefined> {
  // No trailing slash (find would print it doubled), and never taken for an option.
  const trimmed = root.length > 1 ? root.replace(/\/+$/, '') : root;
  const start = trimmed.startsWith('-') ? `./${trimmed}` : trimmed;
  const args = ['-H', start, '-mindepth', '1', ...pruning(start, ignore), '-printf', FORMAT];
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const child = childProcess().spawn('find', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      const records = code === 0 ? Buffer.concat(chunks) : undefined;
      resolve(records && isUtf8(records) ? records : undefined);
    });
  });
}

/** find's records (`walkWithFind`) as the walk here gives them, ignore rules applied. */
export function parseFindOutput(records: Buffer, ignore: IgnoreRules): WalkedTree {
  const tree = emptyTree();
  const parts = records.toString('utf8').split('\0');
  // find goes depth first, so everything below a skipped directory follows it at once.
  let skipping: string | undefined;
  for (let i = 0; i + 2 < parts.length; i += 3) {
    const path = parts[i + 1]!;
    if (skipping !== undefined && path.startsWith(skipping)) continue;
    skipping = undefined;
    const [y, mode, uid, gid, size, mtime, ctime, ino] = parts[i]!.split(' ') as [string, string, string, string, string, string, string, string];
    const type = TYPES[y] ?? 'other';
    const entry: ContextEntry = { path, type, mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid), size: type === 'file' ? Number(size) : 0 };
    if (type === 'symlink') entry.linkTarget = parts[i + 2]!;
    if (!visit(tree, ignore, entry, type === 'file' ? fileStamp(size, nanos(mtime), nanos(ctime), ino) : undefined) && type === 'dir') skipping = `${path}/`;
  }
  return tree;
}

/** What identifies find's records under `ignore`, for remembering what was derived from them. */
export const findOutputDigest = (records: Buffer, ignore: IgnoreRules): string => createHash('sha256').update(`${FORMAT}\0${JSON.stringify(ignore.patterns)}\0`).update(records).digest('hex');
