import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { putFile } from '../cache/blob-store.js';
import type { ContentBlobStore } from '../cache/content-blob-store.js';
import { BuildContext } from '../coordinator/context/build-context.js';
import type { NamedContext } from '../coordinator/context/named-contexts.js';
import { sha256, type Digest } from '../oci/digest.js';
import type { FileEntry } from '../proto/generated/dockyard/v1/FileEntry.js';
import type { LocalContext } from '../proto/generated/dockyard/v1/LocalContext.js';
import type { NamedContext as NamedContextMessage } from '../proto/generated/dockyard/v1/NamedContext.js';

/** What an upload moved: for a line of progress, and for tests (only what the farm lacked). */
export interface UploadStats {
  files: number;
  uploaded: number;
  bytes: number;
}

const fileType = { file: 'FILE_TYPE_FILE', dir: 'FILE_TYPE_DIR', symlink: 'FILE_TYPE_SYMLINK' } as const;

/** Uploads the blobs in `paths` (digest → local file) that the farm's store lacks. */
async function uploadMissing(store: ContentBlobStore, paths: Map<Digest, string>, stats: UploadStats): Promise<void> {
  const missing = await store.findMissing([...paths.keys()]);
  for (const digest of missing) {
    const info = await putFile(store, paths.get(digest)!, digest);
    stats.uploaded++;
    stats.bytes += info.size;
  }
}

/**
 * A local context walked and hashed here with today's BuildContext (`.dockerignore` applied), its file
 * contents uploaded content-addressed: only the ones the farm lacks go up.
 */
export async function uploadLocalContext(store: ContentBlobStore, ctx: BuildContext, stats: UploadStats): Promise<LocalContext> {
  const entries: FileEntry[] = [];
  const paths = new Map<Digest, string>();
  for (const e of ctx.entries().values()) {
    if (e.type === 'other') continue;
    const entry: FileEntry = { path: e.path, type: fileType[e.type], mode: e.mode, uid: e.uid, gid: e.gid, size: e.size };
    if (e.type === 'file') {
      const digest = ctx.fileDigest(e.path) as Digest;
      entry.digest = digest;
      paths.set(digest, join(ctx.root, e.path));
    }
    if (e.type === 'symlink' && e.linkTarget !== undefined) entry.linkTarget = e.linkTarget;
    entries.push(entry);
  }
  stats.files += entries.length;
  await uploadMissing(store, paths, stats);
  return { entries, ignorePatterns: ctx.ignore.patterns, ...(ctx.ignoreFile ? { ignoreFile: ctx.ignoreFile } : {}) };
}

/** `--build-context` values as the farm takes them: local ones and OCI layouts uploaded, image references as they are. */
export async function uploadNamedContexts(store: ContentBlobStore, named: Map<string, NamedContext>, stats: UploadStats): Promise<NamedContextMessage[]> {
  const out: NamedContextMessage[] = [];
  for (const c of named.values()) {
    if (c.type === 'docker-image') out.push({ name: c.name, dockerImage: c.ref });
    else if (c.type === 'local') out.push({ name: c.name, local: await uploadLocalContext(store, BuildContext.open(c.dir), stats) });
    else {
      // index.json and every blob of the layout (the coordinator takes what the index reaches).
      const index = readFileSync(join(c.dir, 'index.json'));
      const indexDigest = sha256(index) as Digest;
      const paths = new Map<Digest, string>([[indexDigest, join(c.dir, 'index.json')]]);
      const blobDir = join(c.dir, 'blobs', 'sha256');
      for (const name of readdirSync(blobDir)) if (/^[0-9a-f]{64}$/.test(name)) paths.set(`sha256:${name}` as Digest, join(blobDir, name));
      await uploadMissing(store, paths, stats);
      out.push({ name: c.name, ociLayout: { indexDigest, ...(c.tag ? { tag: c.tag } : {}), ...(c.digest ? { digest: c.digest } : {}) } });
    }
  }
  return out;
}
