import { sha256, type Digest } from '../../oci/digest.js';
import type { ImageConfig } from '../../oci/image.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import type { RegistryClient } from '../../oci/registry/client.js';
import { fetchManifest, putManifest, type RawManifest } from '../../oci/registry/content.js';
import { RegistryError } from '../../oci/registry/errors.js';
import { formatReference, parseReference, type ImageReference } from '../../oci/reference.js';
import type { Registries } from './registry-images.js';

export interface FetchedManifest extends RawManifest {
  ref: ImageReference;
}

const isIndex = (mediaType: string): boolean => mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;

/** The manifest or index a reference points at, exactly as the registry serves it. */
export async function fetchRaw(registries: Registries, text: string): Promise<FetchedManifest> {
  const ref = parseReference(text);
  return { ref, ...(await fetchManifest(registries.client(ref.domain), ref.path, ref.digest ?? ref.tag ?? 'latest')) };
}

async function fetchConfig(client: RegistryClient, repo: string, manifest: ImageManifest): Promise<ImageConfig> {
  const res = await client.request(`/v2/${repo}/blobs/${manifest.config.digest}`, { repo, actions: ['pull'] });
  return (await res.json()) as ImageConfig;
}

/** `imagetools inspect`: the manifest or index, and for each image its platform. */
export async function inspect(registries: Registries, text: string): Promise<{ name: string; fetched: FetchedManifest; manifests: { descriptor: Descriptor; platform?: string }[]; config?: ImageConfig }> {
  const fetched = await fetchRaw(registries, text);
  const name = formatReference(fetched.ref);
  const parsed = JSON.parse(fetched.bytes.toString()) as ImageIndex & ImageManifest;
  if (isIndex(fetched.mediaType)) {
    return { name, fetched, manifests: parsed.manifests.map((d) => ({ descriptor: d, ...(d.platform ? { platform: [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') } : {}) })) };
  }
  const config = await fetchConfig(registries.client(fetched.ref.domain), fetched.ref.path, parsed);
  return { name, fetched, manifests: [], config };
}

/** Makes `digest` available in `repo`: already there, or mounted from the repository it came from. Never downloads. */
async function ensureBlob(client: RegistryClient, repo: string, from: string, digest: Digest): Promise<'present' | 'mounted'> {
  const head = await client.request(`/v2/${repo}/blobs/${digest}`, { repo, actions: ['pull', 'push'], method: 'HEAD', accept: [404] });
  if (head.status === 200) return 'present';
  const res = await client.request(`/v2/${repo}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`, { repo, actions: ['pull', 'push'], from, method: 'POST', accept: [202] });
  if (res.status !== 201) {
    throw new RegistryError(`${client.domain}/${repo}: the registry would not mount ${digest} from ${from}; imagetools create copies within one registry only`);
  }
  return 'mounted';
}

/** Copies one image (manifest and its blobs, by mount) into `repo` under its digest. */
async function copyImage(client: RegistryClient, src: ImageReference, repo: string, digest: Digest, mediaType: string, bytes: Buffer): Promise<void> {
  const manifest = JSON.parse(bytes.toString()) as ImageManifest;
  for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) await ensureBlob(client, repo, src.path, d);
  await putManifest(client, repo, digest, mediaType, bytes);
}

/**
 * `imagetools create -t TAG SRC...`: one source is re-tagged by digest; several (one per platform)
 * become an index. Blobs move by cross-repository mount within the registry; only manifests and
 * configs are read. Returns the digest the tags point at.
 */
export async function create(registries: Registries, sources: string[], tags: string[]): Promise<Digest> {
  if (tags.length === 0) throw new RegistryError('imagetools create needs at least one -t TAG');
  const fetched = await Promise.all(sources.map((s) => fetchRaw(registries, s)));
  let top: { mediaType: string; bytes: Buffer; digest: Digest };
  const targets = tags.map(parseReference);
  for (const t of targets) {
    for (const f of fetched) if (f.ref.domain !== t.domain) throw new RegistryError(`${formatReference(t)}: imagetools create copies within one registry only (${formatReference(f.ref)} is on ${f.ref.domain})`);
  }
  if (fetched.length === 1) top = fetched[0]!;
  else {
    const manifests: Descriptor[] = [];
    for (const f of fetched) {
      if (isIndex(f.mediaType)) throw new RegistryError(`${formatReference(f.ref)} is already an index: give one image per platform`);
      const config = await fetchConfig(registries.client(f.ref.domain), f.ref.path, JSON.parse(f.bytes.toString()) as ImageManifest);
      manifests.push({ mediaType: f.mediaType, digest: f.digest, size: f.bytes.length, platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) } });
    }
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests } satisfies ImageIndex));
    top = { mediaType: MediaType.ociIndex, bytes, digest: sha256(bytes) };
  }
  for (const t of targets) {
    const client = registries.client(t.domain);
    for (const f of fetched) {
      if (isIndex(f.mediaType)) {
        // An index source: each of its images first, then the index itself.
        const index = JSON.parse(f.bytes.toString()) as ImageIndex;
        for (const d of index.manifests) {
          const child = await fetchRaw(registries, `${f.ref.domain}/${f.ref.path}@${d.digest}`);
          await copyImage(client, f.ref, t.path, child.digest, child.mediaType, child.bytes);
        }
        await putManifest(client, t.path, f.digest, f.mediaType, f.bytes);
      } else await copyImage(client, f.ref, t.path, f.digest, f.mediaType, f.bytes);
    }
    if (fetched.length > 1) await putManifest(client, t.path, top.digest, top.mediaType, top.bytes);
    await putManifest(client, t.path, t.tag ?? 'latest', top.mediaType, top.bytes);
  }
  return top.digest;
}
