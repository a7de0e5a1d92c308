import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { putFile } from '../cache/blob-store.js';
import type { ContentBlobStore } from '../cache/content-blob-store.js';
import { BuildContext } from '../coordinator/context/build-context.js';
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

/** Uploads the blobs in `paths` (digest → local file) that the farm's store lacks, a few at a time: a context is mostly small files. */
async function uploadMissing(store: ContentBlobStore, paths: Map<Digest, string>, stats: UploadStats): Promise<void> {
  const missing = await store.findMissing([...paths.keys()]);
  await forEachLimited(missing, 8, async (digest) => {
    const info = await putFile(store, paths.get(digest)!, digest);
    stats.uploaded++;
    stats.bytes += info.size;
  });
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
