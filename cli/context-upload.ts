import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { putFile } from '../cache/blob-store.js';
import type { ContentBlobStore } from '../cache/content-blob-store.js';
import type { BuildContext } from '../coordinator/context/build-context.js';
import type { NamedContext } from '../coordinator/context/named-contexts.js';
import { localContextManifest } from '../coordinator/farm/uploaded-context.js';
import { sha256, type Digest } from '../oci/digest.js';
import { forEachLimited } from '../oci/for-each-limited.js';
import { trace } from '../oci/trace.js';
import type { LocalContext } from '../proto/generated/dockyard/v1/LocalContext.js';
import type { NamedContext as NamedContextMessage } from '../proto/generated/dockyard/v1/NamedContext.js';

/** What an upload moved: for a line of progress, and for tests (only what the farm lacked). */
export interface UploadStats {
  files: number;
  uploaded: number;
  bytes: number;
}

/** Files up to this size go up many to a call (PutBlobs), up to BATCH_BYTES and BATCH_FILES a call; larger ones alone, streamed from the file. */
const SMALL_FILE = 256 << 10;
const BATCH_BYTES = 4 << 20;
const BATCH_FILES = 512;

interface MissingFile {
  digest: Digest;
  path: string;
  size: number;
}

/**
 * Uploads the blobs in `paths` (digest → local file) that the farm's store lacks, a few calls at a
 * time: a context is mostly small files, which go many to a call.
 */
async function uploadMissing(store: ContentBlobStore, paths: Map<Digest, string>, stats: UploadStats): Promise<void> {
  const missing: MissingFile[] = (await store.findMissing([...paths.keys()])).map((digest) => {
    const path = paths.get(digest)!;
    return { digest, path, size: statSync(path).size };
  });
  const calls: (() => Promise<void>)[] = [];
  let batch: MissingFile[] = [];
  let batchBytes = 0;
  const sendBatch = (files: MissingFile[]) => async () => store.putBlobs(await Promise.all(files.map(async (f) => ({ digest: f.digest, data: await readFile(f.path) }))));
  for (const f of missing) {
    if (f.size > SMALL_FILE) {
      calls.push(async () => void (await putFile(store, f.path, f.digest)));
      continue;
    }
    if (batch.length === BATCH_FILES || batchBytes + f.size > BATCH_BYTES) {
      calls.push(sendBatch(batch));
      batch = [];
      batchBytes = 0;
    }
    batch.push(f);
    batchBytes += f.size;
  }
  if (batch.length > 0) calls.push(sendBatch(batch));
  await forEachLimited(calls, 8, (call) => call());
  stats.uploaded += missing.length;
  stats.bytes += missing.reduce((n, f) => n + f.size, 0);
}

/**
 * A local context walked and hashed here with today's BuildContext (`.dockerignore` applied), its file
 * contents uploaded content-addressed: only the ones the farm lacks go up.
 */
export async function uploadLocalContext(store: ContentBlobStore, ctx: BuildContext, stats: UploadStats): Promise<LocalContext> {
  await ctx.load();
  trace('upload: context walked');
  const { manifest, files } = localContextManifest(ctx);
  trace(`upload: ${manifest.entries.length} entries hashed`);
  stats.files += manifest.entries.length;
  await uploadMissing(store, files, stats);
  trace(`upload: ${stats.uploaded} files sent`);
  return { entries: manifest.entries, ignorePatterns: manifest.ignorePatterns, ...(manifest.ignoreFile !== undefined ? { ignoreFile: manifest.ignoreFile } : {}) };
}

/** `--build-context` values as the farm takes them: local ones and OCI layouts uploaded, image references as they are. */
export async function uploadNamedContexts(store: ContentBlobStore, named: Map<string, NamedContext>, stats: UploadStats, open: (name: string) => BuildContext): Promise<NamedContextMessage[]> {
  const out: NamedContextMessage[] = [];
  for (const c of named.values()) {
    if (c.type === 'docker-image') out.push({ name: c.name, dockerImage: c.ref });
    else if (c.type === 'local') out.push({ name: c.name, local: await uploadLocalContext(store, open(c.name), stats) });
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
