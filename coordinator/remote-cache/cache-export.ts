import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyBlobTo, type BlobStore } from '../../cache/blob-store.js';
import type { CacheRecord } from '../../cache/cache-index.js';
import { sha256, type Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { MediaType, type Descriptor, type ImageIndex } from '../../oci/manifest.js';
import { parseReference } from '../../oci/reference.js';
import { RegistryError } from '../../oci/registry/errors.js';
import { fetchManifest, putManifest } from '../../oci/registry/content.js';
import { pushBlobs, type PushCounts } from '../registry/push.js';
import type { Registries } from '../registry/registry-images.js';
import { cacheEntry, cacheManifest, CacheMediaType, mergeEntries, recordsDocument, type PortableRecord } from './cache-format.js';
import type { ImportedCache } from './cache-import.js';
import type { CacheExport, CacheMode } from './cache-spec.js';

export class CacheExportError extends ExpectedError {}

/**
 * The records an export carries. `min`: those whose layers all belong to one of the final images
 * (its own steps and its bases'); `max`: every record of the build, from every stage.
 */
export function selectRecords(records: CacheRecord[], images: { layers: readonly { digest: Digest }[] }[], mode: CacheMode): CacheRecord[] {
  if (mode === 'max') return records;
  const sets = images.map((img) => new Set(img.layers.map((l) => l.digest)));
  return records.filter((r) => sets.some((s) => r.layers.every((l) => s.has(l.digest))));
}

/** Blobs for an export: from the local store, else from the import that holds them (a lazily imported layer need not have been fetched). */
export class ExportBlobs implements Pick<BlobStore, 'stat' | 'stream'> {
  /** Small blobs made for the export (records), served from memory. */
  private readonly extra = new Map<Digest, Buffer>();
  private readonly local = new Set<Digest>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly imported: ImportedCache,
    private readonly sizes: Map<Digest, number>,
  ) {}

  addBytes(bytes: Buffer): Digest {
    const digest = sha256(bytes);
    this.extra.set(digest, bytes);
    return digest;
  }

  /** Notes which of `digests` the local store has: those are read from it, the others from their import. */
  async settle(digests: Digest[]): Promise<void> {
    for (const d of digests) if ((await this.blobs.stat(d)) !== undefined) this.local.add(d);
  }

  async stat(digest: Digest): Promise<number | undefined> {
    const extra = this.extra.get(digest);
    if (extra) return extra.length;
    if (this.local.has(digest)) return this.blobs.stat(digest);
    return this.imported.sourceOf(digest) ? this.sizes.get(digest) : this.blobs.stat(digest);
  }

  stream(digest: Digest): Readable {
    const extra = this.extra.get(digest);
    if (extra) return Readable.from([extra]);
    const source = this.local.has(digest) ? undefined : this.imported.sourceOf(digest);
    return source ? source.stream(digest) : this.blobs.stream(digest);
  }

  /** Writes the blob to `dest` (a new file): linked from the store when local, else copied from its import. */
  async exportTo(digest: Digest, dest: string): Promise<void> {
    if (this.local.has(digest)) return this.blobs.exportTo(digest, dest);
    return copyBlobTo(this, digest, dest);
  }
}

/** What one export writes: its records blob and manifest, and the layers. */
interface Artifact {
  records: PortableRecord[];
  recordsBlob: Descriptor;
  recordsBytes: Buffer;
  manifest: Descriptor;
  manifestBytes: Buffer;
  layers: Digest[];
}

function artifact(records: CacheRecord[], blobs: ExportBlobs): Artifact {
  const doc = recordsDocument(records);
  const recordsBytes = Buffer.from(JSON.stringify(doc));
  const recordsBlob: Descriptor = { mediaType: CacheMediaType.records, digest: blobs.addBytes(recordsBytes), size: recordsBytes.length };
  const manifest = cacheManifest(recordsBlob, doc.records);
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { records: doc.records, recordsBlob, recordsBytes, manifest: { mediaType: MediaType.ociManifest, digest: sha256(manifestBytes), size: manifestBytes.length }, manifestBytes, layers: manifest.layers.map((l) => l.digest) };
}

/** The entries of the cache index at `tag`, or none when there is none (or it is something else, which is then replaced). */
async function currentEntries(registries: Registries, domain: string, repo: string, tag: string): Promise<Descriptor[]> {
  try {
    const m = await fetchManifest(registries.client(domain), repo, tag);
    return m.mediaType === MediaType.ociIndex ? (JSON.parse(m.bytes.toString()) as ImageIndex).manifests : [];
  } catch (err) {
    if (err instanceof RegistryError && err.status === 404) return [];
    throw err;
  }
}

/**
 * Pushes the layers, the records and the manifest, then merges its entry into the index at the tag.
 * Exporters of other platforms may write the same tag at the same time: after writing, the index is
 * read again a moment later, and merged again if another writer's index replaced ours.
 */
async function exportToRegistry(ref: string, a: Artifact, platforms: string[], blobs: ExportBlobs, registries: Registries): Promise<PushCounts> {
  const r = parseReference(ref);
  const tag = r.tag ?? 'latest';
  const client = registries.client(r.domain);
  const counts: PushCounts = { uploaded: 0, mounted: 0, skipped: 0 };
  await pushBlobs(registries, r.domain, r.path, [...a.layers, a.recordsBlob.digest], blobs, counts);
  await putManifest(client, r.path, a.manifest.digest, a.manifest.mediaType, a.manifestBytes);
  const entry = cacheEntry(a.manifest, platforms);
  for (let round = 0; round < 8; round++) {
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: mergeEntries(await currentEntries(registries, r.domain, r.path, tag), entry, platforms) };
    await putManifest(client, r.path, tag, MediaType.ociIndex, Buffer.from(JSON.stringify(index)));
    await sleep(150 + Math.floor(Math.random() * 250));
    if ((await currentEntries(registries, r.domain, r.path, tag)).some((d) => d.digest === a.manifest.digest)) return counts;
  }
  throw new CacheExportError(`${r.domain}/${r.path}:${tag}: other exports kept replacing the cache index; export again`);
}

/** Writes the artifact into an OCI layout directory; `index.json` is merged and replaced last. */
async function exportToLocal(dir: string, a: Artifact, platforms: string[], blobs: ExportBlobs): Promise<void> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  for (const d of a.layers) {
    const dest = join(blobDir, d.slice(7));
    if (!existsSync(dest)) await blobs.exportTo(d, dest);
  }
  await writeFile(join(blobDir, a.recordsBlob.digest.slice(7)), a.recordsBytes);
  await writeFile(join(blobDir, a.manifest.digest.slice(7)), a.manifestBytes);
  let existing: Descriptor[] = [];
  try {
    existing = (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ImageIndex).manifests ?? [];
  } catch {
    // no index yet, or an unreadable one: replaced
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: mergeEntries(existing, cacheEntry(a.manifest, platforms), platforms) };
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const tmp = join(dir, `index.json.tmp-${process.pid}`);
  await writeFile(tmp, JSON.stringify(index));
  await rename(tmp, join(dir, 'index.json'));
}

export interface CacheExportInput {
  records: CacheRecord[];
  images: { layers: readonly { digest: Digest }[] }[];
  platforms: string[];
  blobs: BlobStore;
  imported: ImportedCache;
  registries: Registries;
}

/** Writes one `--cache-to` (registry or local; inline goes into the image config instead). Returns a line for the progress. */
export async function exportCache(to: Exclude<CacheExport, { type: 'inline' }>, x: CacheExportInput): Promise<string> {
  const records = selectRecords(x.records, x.images, to.mode);
  const sizes = new Map<Digest, number>();
  for (const r of records) for (const l of r.layers) sizes.set(l.digest, l.size);
  const blobs = new ExportBlobs(x.blobs, x.imported, sizes);
  const a = artifact(records, blobs);
  await blobs.settle(a.layers);
  const summary = `${a.records.length} records, ${a.layers.length} layers`;
  if (to.type === 'registry') {
    const c = await exportToRegistry(to.ref, a, x.platforms, blobs, x.registries);
    return `${summary}: ${c.uploaded} blobs uploaded, ${c.mounted} mounted, ${c.skipped} already there`;
  }
  await exportToLocal(to.dest, a, x.platforms, blobs);
  return summary;
}
