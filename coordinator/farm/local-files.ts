import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { putFile, type BlobStore } from '../../cache/blob-store.js';
import { digestOf, type Digest } from '../../oci/digest.js';
import { forEachLimited } from '../../oci/for-each-limited.js';
import type { RemoteStepInput, TreeEntry } from '../../worker/contract/step-io.js';

/**
 * A `local` step input (a directory on the coordinator and the paths a step may read from it: the
 * context's selection, an ADD URL's file, a git checkout) as a `files` tree a remote worker can
 * rebuild: one entry per allowed path, each file's bytes put into the shared store under its digest
 * (only those the store lacks are written). The tree's checksum is the digest of its canonical entry
 * list, so the same files give the same checksum on every coordinator.
 */

export type FilesInput = Extract<RemoteStepInput, { type: 'files' }>;

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function fileDigest(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Puts the file into `store` under `digest` unless it is there already. `hold` leases it before the
 * check (with a leased store), so that no prune removes it before the worker has fetched it.
 */
async function upload(store: BlobStore, path: string, digest: Digest): Promise<void> {
  if (!(await store.hold(digest))) await putFile(store, path, digest);
}

/**
 * The same tree from entries known without a disk (an uploaded context's manifest, whose file
 * contents are blobs in the store already): each file's blob held for the build, none read.
 */
export async function knownFileTree(known: ReadonlyMap<string, TreeEntry>, allowed: ReadonlySet<string>, store: BlobStore, origin: FilesInput['origin'] = 'context'): Promise<FilesInput> {
  const list = [...allowed].sort(byteOrder).flatMap((path) => known.get(path) ?? []);
  await forEachLimited(list, 16, async (e) => {
    if (e.digest && !(await store.hold(e.digest))) throw new Error(`context file ${e.path} (${e.digest}) is not in the farm's store`);
  });
  return { type: 'files', origin, checksum: digestOf(list), entries: list };
}

export async function localFileTree(dir: string, allowed: ReadonlySet<string>, store: BlobStore, origin: FilesInput['origin'] = 'context'): Promise<FilesInput> {
  const paths = [...allowed].sort(byteOrder);
  const entries: (TreeEntry | undefined)[] = new Array(paths.length);
  const uploads = new Map<Digest, string>();
  await forEachLimited(paths, 16, async (path, i) => {
    const abs = join(dir, path);
    const st = await lstat(abs);
    const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (st.isFile()) {
      const digest = await fileDigest(abs);
      uploads.set(digest, abs);
      entries[i] = { ...base, type: 'file', size: st.size, digest };
    } else if (st.isDirectory()) entries[i] = { ...base, type: 'dir', size: 0 };
    else if (st.isSymbolicLink()) entries[i] = { ...base, type: 'symlink', size: 0, linkTarget: await readlink(abs) };
    // Sockets, fifos and devices are not context content (COPY skips them too).
  });
  await forEachLimited([...uploads], 8, ([digest, abs]) => upload(store, abs, digest));
  const list = entries.filter((e): e is TreeEntry => e !== undefined);
  return { type: 'files', origin, checksum: digestOf(list), entries: list };
}
