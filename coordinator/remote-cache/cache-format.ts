import type { CacheRecord, LayerRecord } from '../../cache/cache-index.js';
import { isDigest } from '../../oci/digest.js';
import { MediaType, type Descriptor, type ImageManifest } from '../../oci/manifest.js';

/**
 * Dockyard's cache artifact (v0). An OCI index at the cache's tag lists one manifest per export
 * scope (the set of platforms one build exported). Each manifest's config is the records blob, its
 * layers every blob those records name, so a registry keeps them and an importer can fetch any one.
 */
export const CacheMediaType = {
  artifact: 'application/vnd.dockyard.cache.v0',
  records: 'application/vnd.dockyard.cache.records.v0+json',
} as const;

/** On each index entry: the platforms whose build wrote it (comma-separated, sorted). */
export const PLATFORMS_ANNOTATION = 'dev.dockyard.cache.platforms';

/** The image config field that carries inline records (`--cache-to type=inline`). */
export const INLINE_CONFIG_KEY = 'dev.dockyard.cache.v0';

/** A record as exported: no local times. */
export type PortableRecord = Pick<CacheRecord, 'key' | 'layers' | 'emptyLayer'>;

/** The records blob, and the value of the inline config field. */
export interface RecordsDocument {
  records: PortableRecord[];
}

export const portable = (r: CacheRecord | PortableRecord): PortableRecord => ({ key: r.key, layers: r.layers.map((l) => ({ digest: l.digest, diffID: l.diffID, size: l.size, mediaType: l.mediaType })), ...(r.emptyLayer ? { emptyLayer: true } : {}) });

/** Records in a stable order, so that the same build writes the same bytes. */
export function recordsDocument(records: Iterable<CacheRecord | PortableRecord>): RecordsDocument {
  return { records: [...records].map(portable).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

function isLayer(l: unknown): l is LayerRecord {
  const x = l as LayerRecord;
  return typeof x === 'object' && x !== null && isDigest(x.digest) && isDigest(x.diffID) && Number.isSafeInteger(x.size) && x.size >= 0 && typeof x.mediaType === 'string';
}

/** The records of a document, or a reason it is not one. */
export function readRecords(value: unknown): PortableRecord[] | string {
  const list = (value as RecordsDocument | null)?.records;
  if (!Array.isArray(list)) return 'no records list';
  for (const r of list as unknown[]) {
    const rec = r as PortableRecord;
    if (typeof rec !== 'object' || rec === null || !isDigest(rec.key) || !Array.isArray(rec.layers) || !rec.layers.every(isLayer)) return 'a record is malformed';
  }
  return (list as PortableRecord[]).map(portable);
}

/** Every layer the records name, each once. */
export function layersOf(records: PortableRecord[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const r of records) for (const l of r.layers) if (!seen.has(l.digest)) seen.set(l.digest, { mediaType: l.mediaType, digest: l.digest, size: l.size });
  return [...seen.values()];
}

/** The manifest of one export: its records blob as config, the records' layers as layers. */
export function cacheManifest(recordsBlob: Descriptor, records: PortableRecord[]): ImageManifest & { artifactType: string } {
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: CacheMediaType.artifact, config: recordsBlob, layers: layersOf(records) };
}

/** Is this index entry one of our cache manifests? */
export const isCacheEntry = (d: Descriptor & { artifactType?: string }): boolean => d.artifactType === CacheMediaType.artifact || d.annotations?.[PLATFORMS_ANNOTATION] !== undefined;

/**
 * The entries of a merged index: ours, plus the earlier ones whose platforms are not all among ours.
 * Builds for other platforms thus keep their records (docker/buildx#1044); a build for the same
 * platforms replaces its predecessor.
 */
export function mergeEntries(existing: Descriptor[], ours: Descriptor, platforms: string[]): Descriptor[] {
  const mine = new Set(platforms);
  const kept = existing.filter((d) => {
    if (!isCacheEntry(d) || d.digest === ours.digest) return false;
    const theirs = (d.annotations?.[PLATFORMS_ANNOTATION] ?? '').split(',').filter(Boolean);
    return !theirs.every((p) => mine.has(p));
  });
  return [...kept, ours];
}

/** The index entry for an export covering `platforms`. */
export function cacheEntry(manifest: Descriptor, platforms: string[]): Descriptor & { artifactType: string } {
  return { ...manifest, artifactType: CacheMediaType.artifact, annotations: { [PLATFORMS_ANNOTATION]: [...new Set(platforms)].sort().join(',') } };
}
