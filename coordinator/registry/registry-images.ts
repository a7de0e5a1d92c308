import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import type { ImageManifest } from '../../oci/manifest.js';
import type { Platform } from '../../oci/platform.js';
import { RegistryClient, type ClientOptions } from '../../oci/registry/client.js';
import { parseReference } from '../../oci/reference.js';
import type { ImageResolver, ResolvedImage } from '../plan/plan-types.js';
import { pullBlob, resolveManifest } from './manifests.js';

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim().replace(/^https?:\/\//, '').replace(/\/$/, '')).filter(Boolean);

/** Registry settings from the environment: `DOCKYARD_INSECURE_REGISTRIES` and `DOCKYARD_REGISTRY_MIRRORS` (docker.io). */
export function registrySettings(env: NodeJS.ProcessEnv = process.env): { insecure: string[]; mirrors: string[] } {
  return { insecure: list(env.DOCKYARD_INSECURE_REGISTRIES), mirrors: list(env.DOCKYARD_REGISTRY_MIRRORS) };
}

/** One client per registry, so that tokens are shared by every request of a build; and where blobs were seen. */
export class Registries {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly locations = new Map<string, string>();

  /** Remembers that `repo` on `domain` has `digest`: a later push there can mount it instead of uploading. */
  noteBlob(domain: string, digest: Digest, repo: string): void {
    this.locations.set(`${domain} ${digest}`, repo);
  }

  whereIs(domain: string, digest: Digest): string | undefined {
    return this.locations.get(`${domain} ${digest}`);
  }

  constructor(private readonly opts: ClientOptions = {}) {}
  client(domain: string): RegistryClient {
    let c = this.clients.get(domain);
    if (!c) this.clients.set(domain, (c = new RegistryClient(domain, this.opts)));
    return c;
  }
}

/**
 * Base images from registries: resolved once per build for planning (digest and config), pulled
 * for execution (layers in parallel, verified, into the blob store). Without a store (dry runs) it
 * only resolves.
 */
/** Also the solver's `ImageProvider` (by its shape: this layer does not import the solver). */
export class RegistryImages implements ImageResolver {
  private readonly manifests = new Map<Digest, { repo: string; domain: string; manifest: ImageManifest; diffIDs: Digest[] }>();

  constructor(
    private readonly registries: Registries,
    private readonly blobs: BlobStore | undefined,
    /** Registry mirrors for docker.io (hosts), tried in order before Docker Hub itself. */
    private readonly mirrors: string[] = [],
  ) {}

  async resolve(ref: string, platform: Platform): Promise<ResolvedImage> {
    const r = parseReference(ref);
    const domains = r.domain === 'docker.io' ? [...this.mirrors, r.domain] : [r.domain];
    for (const [i, domain] of domains.entries()) {
      try {
        const resolved = await resolveManifest(this.registries.client(domain), r.path, r.digest ?? r.tag!, platform);
        for (const l of resolved.manifest.layers) this.registries.noteBlob(domain, l.digest, r.path);
        this.manifests.set(resolved.digest, { repo: r.path, domain, manifest: resolved.manifest, diffIDs: resolved.config.rootfs.diff_ids });
        return { digest: resolved.digest, config: resolved.config };
      } catch (err) {
        // A mirror that fails or lacks the image is skipped, as docker does.
        if (i === domains.length - 1) throw err;
      }
    }
    throw new Error('unreachable');
  }

  async pull(ref: string, digest: Digest | undefined): Promise<LayerRecord[]> {
    if (!digest) throw new Error(`${ref} was not resolved before pulling`);
    const blobs = this.blobs;
    if (!blobs) throw new Error(`${ref}: this resolver has no blob store to pull into`);
    let known = this.manifests.get(digest);
    if (!known) {
      const r = parseReference(ref);
      const resolved = await resolveManifest(this.registries.client(r.domain), r.path, digest, { os: 'linux', architecture: 'amd64' });
      known = { repo: r.path, domain: r.domain, manifest: resolved.manifest, diffIDs: resolved.config.rootfs.diff_ids };
    }
    const { repo, domain, manifest, diffIDs } = known;
    const client = this.registries.client(domain);
    await Promise.all(manifest.layers.map((l) => pullBlob(client, repo, l, blobs)));
    for (const l of manifest.layers) this.registries.noteBlob(domain, l.digest, repo);
    return manifest.layers.map((l, i) => ({ digest: l.digest, diffID: diffIDs[i]!, size: l.size, mediaType: l.mediaType }));
  }
}
