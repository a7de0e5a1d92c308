import { createWriteStream } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, symlink, unlink } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
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

/**
 * Writes a `files` tree under a new directory in `tmpDir`: directories and symlinks as the entries
 * say, files hard-linked from `blobs` (which must hold every content digest) when the blob's own mode
 * and owner already match, copied otherwise, so that a blob shared by two entries is never chmodded.
 */
export async function materialiseTree(entries: TreeEntry[], blobs: BlobStore, tmpDir: string): Promise<LocalTree> {
  const dir = await mkdtemp(join(tmpDir, 'files-'));
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs: TreeEntry[] = [];
  for (const e of sorted) {
    const dest = join(dir, safePath(e.path));
    await mkdir(dirname(dest), { recursive: true });
    switch (e.type) {
      case 'dir':
        await mkdir(dest, { recursive: true });
        await chown(dest, e.uid, e.gid);
        dirs.push(e);
        break;
      case 'symlink':
        await symlink(e.linkTarget!, dest);
        await lchown(dest, e.uid, e.gid);
        break;
      case 'file':
        await placeFile(e, e.digest!, blobs, dest);
        break;
    }
  }
  // Directory modes last, deepest first: a read-only directory must not stop its own filling.
  for (const e of dirs.reverse()) await chmod(join(dir, e.path), e.mode);
  return { dir, allowed: new Set(sorted.map((e) => safePath(e.path))) };
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
