import { putBlob, type BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import type { HistoryEntry, ImageConfig } from '../../oci/image.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import type { StepKey } from '../../worker/step.js';
import type { TargetPlan } from '../plan/plan-types.js';

/** One platform's image, its blobs already in the store. */
export interface BuiltImage {
  platform: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: LayerRecord[];
}

export interface AssembleOptions {
  /** SOURCE_DATE_EPOCH in seconds: `created` times are set to it. */
  epoch?: number;
  now?: Date;
  /** Fields added to the config (inline cache records). */
  extraConfig?: Record<string, unknown>;
}

/**
 * Writes the image config and manifest for one target: the plan's config plus what execution knows,
 * the layers' diffIDs, history marked empty where a step changed nothing, and creation times.
 */
export async function assembleImage(
  target: TargetPlan,
  layers: LayerRecord[],
  emptySteps: ReadonlySet<StepKey>,
  blobs: BlobStore,
  opts: AssembleOptions = {},
): Promise<BuiltImage> {
  const created = (opts.epoch !== undefined ? new Date(opts.epoch * 1000) : (opts.now ?? new Date())).toISOString();
  const history: HistoryEntry[] = target.image.history!.map((h, i) => {
    const step = target.historySteps[i];
    if (step === null || step === undefined) return h.created === undefined ? { created, ...h } : h;
    const entry: HistoryEntry = { created, ...h };
    if (emptySteps.has(step)) entry.empty_layer = true;
    return entry;
  });
  const { history: _h, ...rest } = target.image;
  const config: ImageConfig = { created, ...rest, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) }, history, ...opts.extraConfig };
  const configBlob = await putBlob(blobs, JSON.stringify(config));
  const configDesc: Descriptor = { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBlob = await putBlob(blobs, JSON.stringify(manifest));
  const [os, architecture, variant] = target.platform.split('/') as [string, string, string | undefined];
  return {
    platform: target.platform,
    manifest: { mediaType: MediaType.ociManifest, digest: manifestBlob.digest, size: manifestBlob.size, platform: { architecture, os, ...(variant ? { variant } : {}) } },
    config: configDesc,
    layers,
  };
}

/** Several platforms become one OCI index. */
export async function assembleIndex(images: BuiltImage[], blobs: BlobStore): Promise<Descriptor> {
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: images.map((i) => i.manifest) };
  const blob = await putBlob(blobs, JSON.stringify(index));
  return { mediaType: MediaType.ociIndex, digest: blob.digest, size: blob.size };
}

/** Every blob an image or index needs, each once, in a stable order. */
export function blobsOf(images: BuiltImage[], index?: Descriptor): Digest[] {
  const out = new Set<Digest>();
  if (index) out.add(index.digest);
  for (const img of images) {
    out.add(img.manifest.digest);
    out.add(img.config.digest);
    for (const l of img.layers) out.add(l.digest);
  }
  return [...out];
}
