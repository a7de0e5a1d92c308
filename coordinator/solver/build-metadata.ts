import type { Descriptor } from '../../oci/manifest.js';
import type { CacheMiss } from './solver.js';

/** What `--metadata-file` holds, as buildx writes it, for a local build and a farm build alike. */
export function buildMetadata(r: { top: Descriptor; configDigest: string | undefined; tags: string[]; misses: CacheMiss[] }): Record<string, unknown> {
  const { platform: _p, ...descriptor } = r.top;
  return {
    'containerimage.digest': r.top.digest,
    'containerimage.descriptor': descriptor,
    ...(r.configDigest !== undefined ? { 'containerimage.config.digest': r.configDigest } : {}),
    ...(r.tags.length ? { 'image.name': r.tags.join(',') } : {}),
    'dockyard.cache-misses': r.misses,
  };
}
