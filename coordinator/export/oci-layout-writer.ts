import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BlobError, type BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { MediaType, REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from '../../oci/manifest.js';
import { parseReference } from '../../oci/reference.js';

/** What goes into an image layout or archive: the top descriptor, the names it gets, and every blob. */
export interface LayoutContent {
  top: Descriptor;
  tags: string[];
  blobs: Digest[];
  /** docker load's manifest.json, for `type=docker`. */
  dockerManifest?: unknown;
  /** Artifacts about the images (attestations): listed in index.json beside the top, never inside an image index. */
  referrers?: Descriptor[];
}

function topIndex(c: LayoutContent): ImageIndex {
  const entries: Descriptor[] = c.tags.length
    ? c.tags.map((t) => {
        const ref = parseReference(t);
        return { ...c.top, annotations: { 'io.containerd.image.name': `${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}`, [REF_NAME_ANNOTATION]: ref.tag ?? 'latest' } };
      })
    : [c.top];
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...entries, ...(c.referrers ?? [])] };
}

const LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

/** An OCI image layout directory; `index.json` is replaced last, so a reader never sees missing blobs. */
export async function writeLayoutDir(dir: string, c: LayoutContent, blobs: BlobStore): Promise<void> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  for (const d of c.blobs) {
    const dest = join(blobDir, d.slice(7));
    if (!existsSync(dest)) await blobs.exportTo(d, dest);
  }
  await writeFile(join(dir, 'oci-layout'), LAYOUT);
  await writeFile(join(dir, 'index.json.tmp'), JSON.stringify(topIndex(c)));
  await rename(join(dir, 'index.json.tmp'), join(dir, 'index.json'));
}

/** The same as one tar archive (`-` for stdout); with `dockerManifest`, also loadable by `docker load`. */
export async function writeLayoutTar(dest: string, c: LayoutContent, blobs: BlobStore): Promise<void> {
  const pack = (await import('tar-stream')).pack();
  const mtime = new Date(0);
  const out = dest === '-' ? process.stdout : createWriteStream(dest + '.tmp');
  const done = pipeline(pack as unknown as NodeJS.ReadableStream, out);
  const add = (name: string, data: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime }, data, (err) => (err ? reject(err) : resolve())));
  await add('oci-layout', LAYOUT);
  await new Promise<void>((resolve, reject) => pack.entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime }, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => pack.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime }, (e) => (e ? reject(e) : resolve())));
  for (const d of c.blobs) {
    const size = await blobs.stat(d);
    if (size === undefined) throw new BlobError(`blob ${d} is missing from the build cache`);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name: `blobs/sha256/${d.slice(7)}`, size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve()));
      const src = blobs.stream(d);
      src.on('error', reject);
      src.pipe(entry as unknown as NodeJS.WritableStream);
    });
  }
  await add('index.json', JSON.stringify(topIndex(c)));
  if (c.dockerManifest) await add('manifest.json', JSON.stringify(c.dockerManifest));
  pack.finalize();
  await done;
  if (dest !== '-') await rename(dest + '.tmp', dest);
}

export async function ensureParent(path: string): Promise<void> {
  if (path !== '-') await mkdir(dirname(path), { recursive: true });
}
