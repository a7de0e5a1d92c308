import { putFile, type BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import type { ImageConfig } from '../../oci/image.js';
import { OciLayout } from '../../oci/layout.js';
import type { ImageManifest } from '../../oci/manifest.js';
import type { NamedContext } from '../context/named-contexts.js';
import { ExpectedError } from '../../oci/expected-error.js';

/** Brings a base image's layers into the blob store for execution. */
export interface ImageProvider {
  pull(ref: string, digest: Digest | undefined): Promise<LayerRecord[]>;
}

export class ImagePullError extends ExpectedError {}

/** Named-context layouts for `oci-layout://` references, registries for everything else. */
export class ImageSources implements ImageProvider {
  constructor(
    private readonly layouts: ImageProvider,
    private readonly registries: ImageProvider,
  ) {}

  pull(ref: string, digest: Digest | undefined): Promise<LayerRecord[]> {
    return (ref.startsWith('oci-layout://') ? this.layouts : this.registries).pull(ref, digest);
  }
}

/** Base images from `--build-context NAME=oci-layout://DIR`: blobs are copied in and verified. */
export class LayoutImageProvider implements ImageProvider {
  constructor(
    private readonly blobs: BlobStore,
    private readonly named: Map<string, NamedContext>,
  ) {}

  async pull(ref: string, digest: Digest | undefined): Promise<LayerRecord[]> {
    const name = ref.startsWith('oci-layout://') ? ref.slice('oci-layout://'.length) : undefined;
    const ctx = name === undefined ? undefined : this.named.get(name);
    if (!ctx || ctx.type !== 'oci-layout' || !digest) {
      throw new ImagePullError(`cannot get ${ref}: pulling from registries is not available yet; pass the base as --build-context NAME=oci-layout://DIR`);
    }
    const layout = new OciLayout(ctx.dir);
    const manifest = layout.readJson<ImageManifest>(digest);
    const config = layout.readJson<ImageConfig>(manifest.config.digest);
    const diffIDs = config.rootfs.diff_ids;
    if (diffIDs.length !== manifest.layers.length) throw new ImagePullError(`${ref}: config lists ${diffIDs.length} diff_ids for ${manifest.layers.length} layers`);
    const out: LayerRecord[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      if (!(await this.blobs.hold(layer.digest))) {
        await putFile(this.blobs, layout.blobPath(layer.digest), layer.digest).catch((err: Error) => {
          throw new ImagePullError(`${ref}: layer ${layer.digest}: ${err.message}`);
        });
      }
      out.push({ digest: layer.digest, diffID: diffIDs[i]!, size: layer.size, mediaType: layer.mediaType });
    }
    return out;
  }
}
