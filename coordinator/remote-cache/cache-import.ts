import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { lazyVerified, putFile, type BlobStore } from '../../cache/blob-store.js';
import type { CacheRecord } from '../../cache/cache-index.js';
import { sha256, type Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { OciLayout } from '../../oci/layout.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import { parseReference } from '../../oci/reference.js';
import { RegistryError } from '../../oci/registry/errors.js';
import { fetchManifest } from '../../oci/registry/content.js';
import { fetchJsonBlob, pullBlob } from '../registry/manifests.js';
import type { Registries } from '../registry/registry-images.js';
import { CacheMediaType, INLINE_CONFIG_KEY, isCacheEntry, readRecords, type PortableRecord } from './cache-format.js';
import type { CacheImport } from './cache-spec.js';

export class CacheImportError extends ExpectedError {}

/** Where imported records' layers are read from, only when a build needs them. */
export interface CacheSource {
  /** How messages name it. */
  readonly name: string;
  /** The registry repository, for cross-repository mounts when exporting to the same registry. */
  readonly registry?: { domain: string; repo: string };
  /** Brings one blob into `blobs`, verified against its digest (leased by the store's lease). */
  fetch(layer: Descriptor, blobs: BlobStore): Promise<void>;
  /** The blob's verified bytes (to copy it to an export without keeping it). */
  stream(digest: Digest): Readable;
}

/**
 * The records of every `--cache-from`, loaded before the build; layers stay where they are until
 * `fetch`. A record is a hit for the solver without any download: only the layers of results that
 * the output, or a step that runs, needs are fetched.
 */
export class ImportedCache {
  private readonly records = new Map<Digest, { record: PortableRecord; source: CacheSource }>();
  private readonly holders = new Map<Digest, CacheSource>();
  private readonly fetches = new Map<Digest, Promise<void>>();

  add(source: CacheSource, records: PortableRecord[]): void {
    for (const record of records) {
      if (!this.records.has(record.key)) this.records.set(record.key, { record, source });
      for (const l of record.layers) if (!this.holders.has(l.digest)) this.holders.set(l.digest, source);
    }
  }

  get size(): number {
    return this.records.size;
  }

  get(key: Digest): CacheRecord | undefined {
    const found = this.records.get(key);
    return found && { ...found.record, created: new Date().toISOString() };
  }

  /** The source that holds `digest`, if any record named it. */
  sourceOf(digest: Digest): CacheSource | undefined {
    return this.holders.get(digest);
  }

  /** Fetches a layer once per build, however many steps ask; a failure (missing, corrupt) is kept. */
  fetch(layer: Descriptor, blobs: BlobStore): Promise<void> {
    let p = this.fetches.get(layer.digest);
    if (!p) {
      const source = this.holders.get(layer.digest);
      p = source
        ? source.fetch(layer, blobs).catch((err: Error) => {
            throw new CacheImportError(`${source.name}: layer ${layer.digest}: ${err.message}`);
          })
        : Promise.reject(new CacheImportError(`no imported cache holds layer ${layer.digest}`));
      p.catch(() => undefined);
      this.fetches.set(layer.digest, p);
    }
    return p;
  }
}

/** The records a manifest carries: a cache manifest's records blob, or an image config's inline field. */
async function recordsOf(manifest: ImageManifest, readJson: (d: Digest) => Promise<unknown>): Promise<PortableRecord[]> {
  const config = await readJson(manifest.config.digest);
  const doc = manifest.config.mediaType === CacheMediaType.records ? config : (config as Record<string, unknown> | null)?.[INLINE_CONFIG_KEY];
  if (doc === undefined) return [];
  const records = readRecords(doc);
  if (typeof records === 'string') throw new CacheImportError(`its records are invalid: ${records}`);
  return records;
}

const isIndex = (mediaType: string): boolean => mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;

/** A registry reference: a cache artifact, or an image (or index of images) with inline records. */
async function registrySource(ref: string, registries: Registries): Promise<{ source: CacheSource; records: PortableRecord[] }> {
  const r = parseReference(ref);
  const client = registries.client(r.domain);
  const repo = r.path;
  const name = `${r.domain}/${repo}${r.digest ? `@${r.digest}` : `:${r.tag ?? 'latest'}`}`;
  const readJson = (d: Digest): Promise<unknown> => fetchJsonBlob<unknown>(client, repo, d);
  const top = await fetchManifest(client, repo, r.digest ?? r.tag ?? 'latest');
  const manifests: ImageManifest[] = [];
  if (isIndex(top.mediaType)) {
    for (const d of (JSON.parse(top.bytes.toString()) as ImageIndex).manifests) {
      const m = await fetchManifest(client, repo, d.digest);
      if (!isIndex(m.mediaType)) manifests.push(JSON.parse(m.bytes.toString()) as ImageManifest);
    }
  } else manifests.push(JSON.parse(top.bytes.toString()) as ImageManifest);
  const records: PortableRecord[] = [];
  for (const m of manifests) records.push(...(await recordsOf(m, readJson)));
  // A push of the image to another repository of this registry can then mount these layers.
  for (const rec of records) for (const l of rec.layers) registries.noteBlob(r.domain, l.digest, repo);
  const source: CacheSource = {
    name,
    registry: { domain: r.domain, repo },
    fetch: (layer, blobs) => pullBlob(client, repo, layer, blobs),
    stream: (digest) =>
      lazyVerified(digest, async () => {
        const body = await client.blobBody(`/v2/${repo}/blobs/${digest}`, { repo, actions: ['pull'] });
        if (!body) throw new RegistryError(`${name}: ${digest}: the registry sent no body`);
        return body;
      }),
  };
  return { source, records };
}

/** An OCI layout directory written by `--cache-to type=local` (as the runner's cache action restores it). */
function localSource(dir: string): { source: CacheSource; records: Promise<PortableRecord[]> } {
  const layout = new OciLayout(dir);
  const readJson = async (d: Digest): Promise<unknown> => {
    const bytes = readFileSync(layout.blobPath(d));
    if (sha256(bytes) !== d) throw new CacheImportError(`blob ${d} does not match its digest`);
    return JSON.parse(bytes.toString()) as unknown;
  };
  const load = async (): Promise<PortableRecord[]> => {
    if (!OciLayout.isLayout(dir)) throw new CacheImportError('not an OCI layout (no oci-layout and index.json)');
    const records: PortableRecord[] = [];
    for (const d of layout.index().manifests.filter(isCacheEntry)) records.push(...(await recordsOf((await readJson(d.digest)) as ImageManifest, readJson)));
    return records;
  };
  const source: CacheSource = {
    name: `local cache ${dir}`,
    fetch: async (layer, blobs) => {
      if (!(await blobs.hold(layer.digest))) await putFile(blobs, join(dir, 'blobs', 'sha256', layer.digest.slice(7)), layer.digest);
    },
    stream: (digest) => lazyVerified(digest, async () => createReadStream(layout.blobPath(digest))),
  };
  return { source, records: load() };
}

/**
 * Loads every import's records. An import that cannot be read (missing, unreachable, malformed) is
 * reported through `warn` and skipped: the build runs without it.
 */
export async function importCaches(imports: CacheImport[], registries: Registries, warn: (message: string) => void): Promise<ImportedCache> {
  const cache = new ImportedCache();
  for (const imp of imports) {
    const what = imp.type === 'registry' ? imp.ref : imp.src;
    try {
      if (imp.type === 'registry') {
        const { source, records } = await registrySource(imp.ref, registries);
        cache.add(source, records);
      } else {
        const { source, records } = localSource(imp.src);
        cache.add(source, await records);
      }
    } catch (err) {
      const e = err as Error;
      const why = e instanceof RegistryError && e.status === 404 ? 'not found' : e.message;
      warn(`cache import from ${imp.type} ${what} skipped: ${why}`);
    }
  }
  return cache;
}
