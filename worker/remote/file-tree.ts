import { createWriteStream } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, symlink, unlink } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { forEachLimited } from '../../oci/for-each-limited.js';
import { ContractError } from '../contract/contract-error.js';
import type { TreeEntry } from '../contract/step-io.js';

/** A `files` input made local: the directory and the paths in it a step may read (LocalWorker's `local` input). */
export interface LocalTree {
  dir: string;
  allowed: Set<string>;
}

/** A tree path that stays inside the tree: relative, no `..`, no empty segment. */
function safePath(path: string): string {
  const n = normalize(path);
  if (path === '' || path.startsWith('/') || n.startsWith('..') || n !== path.replace(/\/+$/, '')) throw new ContractError(`file entry path ${JSON.stringify(path)} leaves its tree`);
  return n;
}

/** Files placed at a time: each is a few calls on the thread pool, and a context has thousands. */
const FILES_AT_ONCE = 16;

/**
 * Writes a `files` tree under a new directory in `tmpDir`: directories and symlinks as the entries
 * say, files hard-linked from `blobs` (which must hold every content digest) when the blob's own mode
 * and owner already match, copied otherwise, so that a blob shared by two entries is never chmodded.
 * An entry below a symlink of the tree is refused: it would be written wherever the symlink leads.
 */
export async function materialiseTree(entries: TreeEntry[], blobs: BlobStore, tmpDir: string): Promise<LocalTree> {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const paths = sorted.map((e) => safePath(e.path));
  const links = new Set(sorted.flatMap((e, i) => (e.type === 'symlink' ? [paths[i]!] : [])));
  for (const path of paths) {
    for (let up = dirname(path); up !== '.'; up = dirname(up)) if (links.has(up)) throw new ContractError(`file entry ${JSON.stringify(path)} lies below the symlink ${JSON.stringify(up)}`);
  }
  const dir = await mkdtemp(join(tmpDir, 'files-'));
  const at = (e: TreeEntry): string => join(dir, e.path);
  const dirs = sorted.filter((e) => e.type === 'dir');
  // Every directory an entry needs, each made once, parents first (sorted).
  const needed = new Set([...paths.map((p) => dirname(join(dir, p))), ...dirs.map(at)]);
  for (const d of [...needed].sort()) await mkdir(d, { recursive: true });
  for (const e of dirs) await chown(at(e), e.uid, e.gid);
  await forEachLimited(
    sorted.filter((e) => e.type === 'file'),
    FILES_AT_ONCE,
    (e) => placeFile(e, e.digest!, blobs, at(e)),
  );
  for (const e of sorted) {
    if (e.type !== 'symlink') continue;
    await symlink(e.linkTarget!, at(e));
    await lchown(at(e), e.uid, e.gid);
  }
  // Directory modes last, deepest first: a read-only directory must not stop its own filling.
  for (const e of dirs.reverse()) await chmod(at(e), e.mode);
  return { dir, allowed: new Set(paths) };
}

async function placeFile(e: TreeEntry, digest: Digest, blobs: BlobStore, dest: string): Promise<void> {
  await blobs.exportTo(digest, dest);
  const st = await lstat(dest);
  if ((st.mode & 0o7777) === e.mode && st.uid === e.uid && st.gid === e.gid) return;
  if (st.nlink > 1) {
    // Shared with the store: write a private copy rather than change the blob's metadata.
    await unlink(dest);
    await pipeline(blobs.stream(digest), createWriteStream(dest, { mode: 0o600 }));
  }
  await chown(dest, e.uid, e.gid);
  await chmod(dest, e.mode);
}
