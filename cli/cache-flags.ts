import { parseCacheFrom, parseCacheTo, type CacheExport, type CacheImport } from '../coordinator/remote-cache/cache-spec.js';
import { UsageError } from './errors.js';

/**
 * `--cache-from` and `--cache-to`, read as buildx reads them and checked against the rest of the
 * command; the values as written too, which a farm build sends for its coordinator to read.
 */
export function cacheFlags(values: { 'cache-from'?: string[]; 'cache-to'?: string[]; 'dry-run'?: boolean }, builder: string | undefined): { cacheFrom: CacheImport[]; cacheTo: CacheExport[]; cacheFromText: string[]; cacheToText: string[] } {
  for (const flag of ['cache-from', 'cache-to'] as const) {
    if (values[flag]?.length && values['dry-run']) throw new UsageError(`--${flag} needs a build: --dry-run neither reads nor writes a cache`);
  }
  let parsed: { cacheFrom: CacheImport[]; cacheTo: CacheExport[] };
  try {
    parsed = { cacheFrom: (values['cache-from'] ?? []).map(parseCacheFrom), cacheTo: (values['cache-to'] ?? []).map(parseCacheTo) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // A farm's coordinators cannot reach this machine's directories.
  if (builder && parsed.cacheFrom.some((c) => c.type === 'local')) throw new UsageError('--cache-from type=local is not supported with --builder: the farm cannot read this machine\'s directories; use type=registry');
  if (builder && parsed.cacheTo.some((c) => c.type === 'local')) throw new UsageError('--cache-to type=local is not supported with --builder: the farm cannot write this machine\'s directories; use type=registry or type=inline');
  return { ...parsed, cacheFromText: values['cache-from'] ?? [], cacheToText: values['cache-to'] ?? [] };
}
