import type { BlobStore } from '../../cache/blob-store.js';
import { sha256, type Digest } from '../../oci/digest.js';
import type { ImageConfig } from '../../oci/image.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import { formatPlatform, normalizePlatform, type Platform } from '../../oci/platform.js';
import type { RegistryClient } from '../../oci/registry/client.js';
import { fetchManifest } from '../../oci/registry/content.js';
import { RegistryError } from '../../oci/registry/errors.js';

export interface ResolvedManifest {
  /** The platform's manifest (not the index). */
  digest: Digest;
  manifest: ImageManifest;
  config: ImageConfig;
}

export async function fetchJsonBlob<T>(client: RegistryClient, repo: string, digest: Digest): Promise<T> {
  const res = await client.request(`/v2/${repo}/blobs/${digest}`, { repo, actions: ['pull'] });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (sha256(bytes) !== digest) throw new RegistryError(`${client.domain}/${repo}: blob ${digest} does not match its digest`);
  return JSON.parse(bytes.toString()) as T;
}

const platformOf = (d: Descriptor): string => (d.platform ? formatPlatform(normalizePlatform(d.platform)) : '');

/** Resolves a tag or digest to the manifest and config for `platform`, through an index if there is one. */
export async function resolveManifest(client: RegistryClient, repo: string, reference: string, platform: Platform): Promise<ResolvedManifest> {
  let m = await fetchManifest(client, repo, reference);
  if (m.mediaType === MediaType.ociIndex || m.mediaType === MediaType.dockerManifestList) {
    const index = JSON.parse(m.bytes.toString()) as ImageIndex;
    const want = formatPlatform(normalizePlatform(platform));
    const match = index.manifests.find((d) => platformOf(d) === want);
    if (!match) throw new RegistryError(`${client.domain}/${repo}:${reference} has no image for ${want} (it has ${index.manifests.map(platformOf).filter(Boolean).join(', ')})`);
    m = await fetchManifest(client, repo, match.digest);
  }
  const manifest = JSON.parse(m.bytes.toString()) as ImageManifest;
  const config = await fetchJsonBlob<ImageConfig>(client, repo, manifest.config.digest);
  return { digest: m.digest, manifest, config };
}

/**
 * Downloads one blob into the store, verified against its digest, unless the store has it. A
 * connection that breaks mid-way is resumed with a Range request from the last byte received.
 */
export async function pullBlob(client: RegistryClient, repo: string, desc: Descriptor, blobs: BlobStore, attempts = 6): Promise<void> {
  if (await blobs.hold(desc.digest)) return;
  const w = blobs.writer(desc.digest);
  let received = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const got = await client.download(`/v2/${repo}/blobs/${desc.digest}`, { repo, actions: ['pull'] }, w, received);
        if (got < 0) {
          // The registry ignored the range: start over.
          await w.abort();
          return pullBlob(client, repo, desc, blobs, attempts - attempt);
        }
        received += got;
        break;
      } catch (err) {
        if (attempt >= attempts || (err instanceof RegistryError && err.status !== undefined && err.status < 500 && err.status !== 429)) throw err;
        // Count what arrived before the break: the next request asks for the rest.
        received = w.writtenBytes;
      }
    }
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err instanceof RegistryError ? err : new RegistryError(`${client.domain}/${repo}: downloading ${desc.digest} failed: ${(err as Error).message}`);
  }
}
