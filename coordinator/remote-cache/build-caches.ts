import type { BlobStore } from '../../cache/blob-store.js';
import type { CacheRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import type { Progress } from '../progress/progress.js';
import type { Registries } from '../registry/registry-images.js';
import { CacheExportError, exportCache } from './cache-export.js';
import { importCaches, type ImportedCache } from './cache-import.js';
import type { CacheExport, CacheImport } from './cache-spec.js';

/** Loads `--cache-from`'s records under one progress line; what cannot be read becomes a warning. */
export async function importWithProgress(from: CacheImport[], registries: Registries, progress: Progress, warnings: string[]): Promise<ImportedCache> {
  const id = progress.start(`importing cache manifest from ${from.map((c) => (c.type === 'registry' ? c.ref : c.src)).join(', ')}`);
  const imported = await importCaches(from, registries, (message) => {
    warnings.push(message);
    progress.note(id, `WARNING: ${message}`);
  });
  progress.note(id, `${imported.size} records`);
  progress.done(id);
  return imported;
}

export interface CacheExportsInput {
  /** The build's records, once all are stored. */
  records(): Promise<CacheRecord[]>;
  images: { layers: readonly { digest: Digest }[] }[];
  platforms: string[];
  blobs: BlobStore;
  imported: ImportedCache;
  registries: Registries;
  progress: Progress;
  warnings: string[];
}

/** Writes each registry or local `--cache-to` (inline ones are in the image config already); a failure fails the build unless ignore-error=true. */
export async function exportCaches(to: CacheExport[], x: CacheExportsInput): Promise<void> {
  for (const c of to) {
    if (c.type === 'inline') continue;
    const where = `${c.type} ${c.type === 'registry' ? c.ref : c.dest}`;
    const id = x.progress.start(`exporting cache to ${where}`);
    try {
      x.progress.note(id, await exportCache(c, { records: await x.records(), images: x.images, platforms: x.platforms, blobs: x.blobs, imported: x.imported, registries: x.registries }));
      x.progress.done(id);
    } catch (err) {
      const message = `--cache-to type=${where}: ${(err as Error).message}`;
      x.progress.error(id, message);
      if (!c.ignoreError) throw new CacheExportError(message);
      x.warnings.push(`${message} (ignored: ignore-error=true)`);
    }
  }
}
