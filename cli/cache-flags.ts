import { parseCacheFrom, parseCacheTo, type CacheExport, type CacheImport } from '../coordinator/remote-cache/cache-spec.js';
import { UsageError } from './errors.js';

/** `--cache-from` and `--cache-to`, read as buildx reads them and checked against the rest of the command. */
export function cacheFlags(values: { 'cache-from'?: string[]; 'cache-to'?: string[]; 'dry-run'?: boolean }, builder: string | undefined): { cacheFrom: CacheImport[]; cacheTo: CacheExport[] } {
  for (const flag of ['cache-from', 'cache-to'] as const) {
    if (!values[flag]?.length) continue;
    if (values['dry-run']) throw new UsageError(`--${flag} needs a build: --dry-run neither reads nor writes a cache`);
    // The farm's coordinators do not take cache imports or exports over the wire yet; its own cache is shared by every build on it.
    if (builder) throw new UsageError(`--${flag} is not supported with --builder yet: the farm keeps one shared cache for all its builds; use --${flag} with a local build`);
  }
  try {
    return { cacheFrom: (values['cache-from'] ?? []).map(parseCacheFrom), cacheTo: (values['cache-to'] ?? []).map(parseCacheTo) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
