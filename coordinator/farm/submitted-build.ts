import type { BlobStore } from '../../cache/blob-store.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { parsePlatform } from '../../oci/platform.js';
import type { BuildOptions__Output } from '../../proto/generated/dockyard/v1/BuildOptions.js';
import type { LocalContext__Output } from '../../proto/generated/dockyard/v1/LocalContext.js';
import type { OutputSpec } from '../export/output-spec.js';
import { parseCacheFrom, parseCacheTo } from '../remote-cache/cache-spec.js';
import { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY, type BuildRequest, type QueuedAttest, type QueuedNamedContext } from '../queue/build-job.js';
import { storeContextManifest, type ContextManifest } from './uploaded-context.js';

/** A Submit the coordinator refuses: one line, sent back as INVALID_ARGUMENT. */
export class SubmitError extends ExpectedError {}

const localManifest = (c: LocalContext__Output): ContextManifest => ({ kind: 'local', entries: c.entries, ignorePatterns: c.ignorePatterns, ...(c.ignoreFile !== undefined ? { ignoreFile: c.ignoreFile } : {}) });

/**
 * The queued form of a submitted build: contexts become manifests in the store (named by digest),
 * outputs lose their destinations (they stay with the client), and only secret ids remain.
 */
export async function queuedRequest(store: BlobStore, o: BuildOptions__Output): Promise<BuildRequest> {
  if (o.dryRun) throw new SubmitError('--dry-run plans without building: run it without --builder');
  if (!o.context) throw new SubmitError('the build has no context');
  const namedContexts: QueuedNamedContext[] = [];
  for (const c of o.namedContexts) {
    if (c.context === 'dockerImage') namedContexts.push({ name: c.name, type: 'docker-image', ref: c.dockerImage ?? '' });
    else if (c.context === 'local' && c.local) namedContexts.push({ name: c.name, type: 'uploaded', digest: await storeContextManifest(store, localManifest(c.local)) });
    else if (c.context === 'ociLayout' && c.ociLayout) {
      const l = c.ociLayout;
      const manifest: ContextManifest = { kind: 'oci-layout', indexDigest: l.indexDigest, ...(l.tag ? { tag: l.tag } : {}), ...(l.digest ? { digest: l.digest } : {}) };
      namedContexts.push({ name: c.name, type: 'uploaded', digest: await storeContextManifest(store, manifest) });
    } else throw new SubmitError(`--build-context ${c.name}: no context given`);
  }
  const outputs: OutputSpec[] = o.outputs.map((out) => {
    switch (out.output) {
      case 'oci':
        return { type: 'oci', dest: '', tar: out.oci?.tar ?? true };
      case 'docker':
        return { type: 'docker', dest: '' };
      case 'local':
        return { type: 'local', dest: '' };
      case 'tar':
        return { type: 'tar', dest: '' };
      case 'image':
        return { type: 'image', push: out.image?.push ?? false, names: out.image?.names ?? [], pushByDigest: out.image?.pushByDigest ?? false };
      default:
        throw new SubmitError('an output names no type');
    }
  });
  let platforms;
  try {
    platforms = o.platforms.map(parsePlatform);
  } catch (err) {
    throw new SubmitError((err as Error).message);
  }
  const mode = o.provenanceMode;
  if (mode !== '' && mode !== 'min' && mode !== 'max') throw new SubmitError(`invalid provenance mode ${JSON.stringify(mode)}: min or max`);
  const provenance: QueuedAttest['provenance'] = mode === 'min' || mode === 'max' ? { mode, builderId: o.provenanceBuilderId } : undefined;
  const signFormats = o.signFormats.map((f) => {
    if (f !== 'legacy' && f !== 'bundle') throw new SubmitError(`invalid signature format ${JSON.stringify(f)}: legacy or bundle`);
    return f;
  });
  const caches = farmCaches(o.cacheFrom, o.cacheTo);
  return {
    ...(signFormats.length > 0 ? { sign: { formats: signFormats } } : {}),
    ...(caches.cacheFrom.length > 0 ? { cacheFrom: caches.cacheFrom } : {}),
    ...(caches.cacheTo.length > 0 ? { cacheTo: caches.cacheTo } : {}),
    ...(provenance || o.sbom ? { attest: { ...(provenance ? { provenance } : {}), sbom: o.sbom, dockerfilePath: o.dockerfilePath } } : {}),
    dockerfileName: o.dockerfileName,
    dockerfileText: o.dockerfileText,
    context: { digest: await storeContextManifest(store, localManifest(o.context)) },
    namedContexts,
    tags: o.tags,
    buildArgs: { ...o.buildArgs },
    ...(o.target !== undefined ? { target: o.target } : {}),
    platforms,
    secretIds: o.secretIds,
    labels: { ...o.labels },
    outputs,
    noCache: o.noCache,
    noCacheFilter: o.noCacheFilter,
    ...(o.maxParallelism ? { maxParallelism: o.maxParallelism } : {}),
  };
}

/** The wire's priority (higher first, 0 the default) as BullMQ's (1 first). */
export function queuePriority(priority: number): number {
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, DEFAULT_PRIORITY - priority));
}

export function wirePriority(queued: number): number {
  return DEFAULT_PRIORITY - queued;
}

/** `--cache-from`/`--cache-to` as the client wrote them, parsed here; the farm cannot read or write the client's directories. */
function farmCaches(from: string[], to: string[]): Required<Pick<BuildRequest, 'cacheFrom' | 'cacheTo'>> {
  try {
    const cacheFrom = from.map(parseCacheFrom).map((c) => {
      if (c.type !== 'registry') throw new SubmitError(`--cache-from type=${c.type} is not supported with --builder: the farm cannot read the client's directories; use type=registry`);
      return c;
    });
    const cacheTo = to.map(parseCacheTo).map((c) => {
      if (c.type === 'local') throw new SubmitError(`--cache-to type=local is not supported with --builder: the farm cannot write the client's directories; use type=registry or type=inline`);
      return c;
    });
    return { cacheFrom, cacheTo };
  } catch (err) {
    if (err instanceof SubmitError) throw err;
    throw new SubmitError((err as Error).message);
  }
}
