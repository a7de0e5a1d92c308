import { readBlob, type BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { uploadBlob, uploadPath } from '../../oci/registry/blob-upload.js';
import { putManifest } from '../../oci/registry/content.js';
import { RegistryError } from '../../oci/registry/errors.js';
import { parseReference } from '../../oci/reference.js';
import type { Registries } from './registry-images.js';

export interface PushCounts {
  uploaded: number;
  mounted: number;
  skipped: number;
}

/**
 * Pushes blobs (skipping those the registry has, mounting those another repository of it has),
 * then manifests, then the index, then each tag: a tag never points at anything incomplete.
 */
/** What a push needs of each built image: its manifest, config and layer blobs. */
export interface PushedImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: readonly { digest: Digest }[];
}

export async function pushImage(registries: Registries, images: PushedImage[], top: Descriptor, tags: string[], blobs: BlobStore, pushByDigest: boolean): Promise<PushCounts & { repos: string[] }> {
  const counts: PushCounts = { uploaded: 0, mounted: 0, skipped: 0 };
  const targets = new Map<string, { domain: string; repo: string; tags: string[] }>();
  for (const t of tags) {
    const r = parseReference(t);
    const key = `${r.domain}/${r.path}`;
    const entry = targets.get(key) ?? { domain: r.domain, repo: r.path, tags: [] };
    if (r.tag && !pushByDigest) entry.tags.push(r.tag);
    targets.set(key, entry);
  }
  if (targets.size === 0) throw new RegistryError('nothing to push to: give the image a name with -t REGISTRY/REPOSITORY:TAG');
  for (const { domain, repo, tags: repoTags } of targets.values()) {
    const client = registries.client(domain);
    const layerBlobs = new Set<Digest>();
    for (const img of images) {
      for (const l of img.layers) layerBlobs.add(l.digest);
      layerBlobs.add(img.config.digest);
    }
    await pushBlobs(registries, domain, repo, [...layerBlobs], blobs, counts);
    const put = async (desc: Descriptor, reference: string): Promise<void> => {
      await putManifest(client, repo, reference, desc.mediaType, await readBlob(blobs, desc.digest));
    };
    for (const img of images) await put(img.manifest, img.manifest.digest);
    if (images.length > 1) await put(top, top.digest);
    for (const tag of repoTags) await put(top, tag);
  }
  return { ...counts, repos: [...targets.keys()] };
}

/**
 * Uploads `digests` to one repository, four at a time: skipped when the repository has them,
 * mounted when another repository of the registry has them, else read from `blobs`.
 */
export async function pushBlobs(registries: Registries, domain: string, repo: string, digests: Digest[], blobs: Pick<BlobStore, 'stat' | 'stream'>, counts: PushCounts): Promise<void> {
  const client = registries.client(domain);
  const pushBlobOnce = async (digest: Digest): Promise<void> => {
    const head = await client.request(`/v2/${repo}/blobs/${digest}`, { repo, actions: ['pull', 'push'], method: 'HEAD', accept: [404] });
    if (head.status === 200) {
      counts.skipped++;
      registries.noteBlob(domain, digest, repo);
      return;
    }
    const from = registries.whereIs(domain, digest);
    const start = await client.request(`/v2/${repo}/blobs/uploads/${from ? `?mount=${digest}&from=${encodeURIComponent(from)}` : ''}`, { repo, actions: ['pull', 'push'], method: 'POST', ...(from ? { from } : {}) });
    if (start.status === 201) counts.mounted++;
    else {
      const size = await blobs.stat(digest);
      if (size === undefined) throw new RegistryError(`${domain}/${repo}: blob ${digest} is not in the build cache`);
      await uploadBlob(client, repo, digest, size, blobs.stream(digest), uploadPath(start.headers.get('location'), client.base));
      counts.uploaded++;
    }
    registries.noteBlob(domain, digest, repo);
  };
  // An upload broken half-way cannot always be continued (the session may be gone): look again
  // whether the registry has the blob, and start a fresh upload if not.
  const pushBlob = async (digest: Digest): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await pushBlobOnce(digest);
      } catch (err) {
        if (attempt >= 5 || (err instanceof RegistryError && (err.status === 401 || err.status === 403))) throw err;
      }
    }
  };
  const queue = [...digests];
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let d = queue.shift(); d; d = queue.shift()) await pushBlob(d);
  }));
}
