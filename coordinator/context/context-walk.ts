import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { runCommand } from '../../worker/system/command.js';
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
  /** What a remembered content hash must match (`contextStamp`). */
  stamps: Map<string, string>;
}

/**
 * What must be unchanged for a file's content to be taken as unchanged: size, ctime and inode. Any
 * write moves ctime, which only the kernel sets (a change of mtime too), so mtime adds nothing, and
 * leaving it out of find's records saves a fifth of find's time. Written as find prints them
 * (`%s %C@ %i`), so that its records need no conversion.
 */
export const contextStamp = (st: BigIntStats): string => `${st.size} ${findTime(st.ctimeNs)} ${st.ino}`;

/** Nanoseconds since the epoch as GNU find's `%C@` prints them: seconds, a point, ten digits. */
const findTime = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}0`;

/** The ctime a stamp holds, in milliseconds. */
export const stampCtimeMs = (stamp: string): number => Number(stamp.split(' ')[1]) * 1000;

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
      // With nanoseconds, as find gives them.
      const st = lstatSync(base + rel, { bigint: true });
      const type = entryType(st);
      const entry: ContextEntry = { path: rel, type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), size: type === 'file' ? Number(st.size) : 0 };
      if (type === 'symlink') entry.linkTarget = readlinkSync(base + rel);
      if (visit(tree, ignore, entry, type === 'file' ? contextStamp(st) : undefined)) walk(rel);
    }
  };
  walk('');
  return tree;
}

/**
 * One record per path: type, octal mode, uid, gid, size, ctime (seconds with a fraction), inode; then
 * the path below the root and the link target, each ended by NUL (which no name holds).
 */
const FORMAT = '%y %m %U %G %s %C@ %i\\0%P\\0%l\\0';
const TYPES: Record<string, EntryType> = { f: 'file', d: 'dir', l: 'symlink' };

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
export async function walkWithFind(root: string, ignore: IgnoreRules): Promise<Buffer | undefined> {
  // No trailing slash (find would print it doubled), and never taken for an option.
  const trimmed = root.length > 1 ? root.replace(/\/+$/, '') : root;
  const start = trimmed.startsWith('-') ? `./${trimmed}` : trimmed;
  const args = ['-H', start, '-mindepth', '1', ...pruning(start, ignore), '-printf', FORMAT];
  // The C locale: times printed with a point whatever LC_NUMERIC says.
  const found = await runCommand('find', args, { check: false, env: { ...process.env, LC_ALL: 'C' } }).catch(() => undefined);
  return found?.code === 0 && isUtf8(found.output) ? found.output : undefined;
}

/** find's records (`walkWithFind`) as the walk here gives them, ignore rules applied. */
export function parseFindOutput(records: Buffer, ignore: IgnoreRules): WalkedTree {
  const tree = emptyTree();
  const text = records.toString('utf8');
  // find goes depth first, so everything below a skipped directory follows it at once.
  let skipping: string | undefined;
  // Scanned with indexOf: splitting each record into fields made the parse three times slower.
  for (let at = 0; at < text.length; ) {
    const head = text.indexOf('\0', at);
    const pathEnd = text.indexOf('\0', head + 1);
    const linkEnd = text.indexOf('\0', pathEnd + 1);
    const path = text.slice(head + 1, pathEnd);
    const record = at;
    at = linkEnd + 1;
    if (skipping !== undefined && path.startsWith(skipping)) continue;
    skipping = undefined;
    // `y mode uid gid ` then the stamp's fields.
    const modeEnd = text.indexOf(' ', record + 2);
    const uidEnd = text.indexOf(' ', modeEnd + 1);
    const gidEnd = text.indexOf(' ', uidEnd + 1);
    const sizeEnd = text.indexOf(' ', gidEnd + 1);
    const type = TYPES[text[record]!] ?? 'other';
    const entry: ContextEntry = {
      path,
      type,
      mode: parseInt(text.slice(record + 2, modeEnd), 8),
      uid: Number(text.slice(modeEnd + 1, uidEnd)),
      gid: Number(text.slice(uidEnd + 1, gidEnd)),
      size: type === 'file' ? Number(text.slice(gidEnd + 1, sizeEnd)) : 0,
    };
    if (type === 'symlink') entry.linkTarget = text.slice(pathEnd + 1, linkEnd);
    if (!visit(tree, ignore, entry, type === 'file' ? text.slice(gidEnd + 1, head) : undefined) && type === 'dir') skipping = `${path}/`;
  }
  return tree;
}

/** What identifies find's records under `ignore`, for remembering what was derived from them. */
export const findOutputDigest = (records: Buffer, ignore: IgnoreRules): string => createHash('sha256').update(`${FORMAT}\0${JSON.stringify(ignore.patterns)}\0`).update(records).digest('hex');
