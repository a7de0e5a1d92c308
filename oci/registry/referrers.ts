import { sha256, type Digest } from '../digest.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../manifest.js';
import type { RegistryClient } from './client.js';
import { getBlob, getManifest, putBlob, putManifest } from './content.js';
import { RegistryError } from './errors.js';

/**
 * OCI 1.1 referrers: artifacts (signatures, SBOMs, provenance) that point at an image through their
 * manifest's `subject`. A registry with the referrers API indexes them itself; for one without (such as
 * distribution 2.8), the client keeps the index at the tag `sha256-<hex>` (the spec's fallback scheme).
 */

export interface ArtifactBlob {
  mediaType: string;
  data: Buffer;
  annotations?: Record<string, string>;
}

export interface Artifact {
  artifactType: string;
  /** The artifact's layers, in order. */
  blobs: ArtifactBlob[];
  /** Manifest annotations; they are copied into the referrers index, where listing sees them. */
  annotations?: Record<string, string>;
}

export interface AttachedReferrer {
  /** The artifact manifest's descriptor, as the referrers index lists it. */
  descriptor: Descriptor;
  /** `api`: the registry indexes referrers; `fallback-tag`: we updated the `sha256-<hex>` index. */
  via: 'api' | 'fallback-tag';
}

/** OCI 1.1's empty JSON `{}`, the config of an artifact without one. */
const EMPTY_CONFIG = Buffer.from('{}');

/** The fallback scheme's tag for a subject: `<alg>-<hex>`, at most 128 characters. */
export function fallbackTag(subject: Digest): string {
  return subject.replace(':', '-').slice(0, 128);
}

const subjectOf = (d: Descriptor): Descriptor => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });

/**
 * The subject's referrers from the registry's API, following `Link` pages; undefined when the
 * registry has no such API (anything but 200 with an image index).
 */
async function referrersFromApi(client: RegistryClient, repo: string, subject: Digest): Promise<Descriptor[] | undefined> {
  const found: Descriptor[] = [];
  let path: string | undefined = `/v2/${repo}/referrers/${subject}`;
  while (path) {
    const res = await client.request(path, { repo, actions: ['pull'], headers: { accept: MediaType.ociIndex }, accept: [400, 404, 405, 406] });
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (res.status !== 200 || type !== MediaType.ociIndex) {
      await res.body?.cancel().catch(() => undefined);
      if (found.length === 0) return undefined;
      throw new RegistryError(`${client.domain}/${repo}: the referrers API failed on a later page (HTTP ${res.status})`, res.status);
    }
    const index = (await res.json()) as ImageIndex;
    found.push(...(index.manifests ?? []));
    const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    path = next ? new URL(next, client.base).pathname + new URL(next, client.base).search : undefined;
  }
  return found;
}

/** The fallback index at `sha256-<hex>`, empty when the tag does not exist. */
async function fallbackIndex(client: RegistryClient, repo: string, subject: Digest): Promise<ImageIndex> {
  const tag = fallbackTag(subject);
  const raw = await getManifest(client, repo, tag);
  if (!raw) return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  const index = JSON.parse(raw.bytes.toString()) as ImageIndex;
  if (raw.mediaType !== MediaType.ociIndex || !Array.isArray(index.manifests)) {
    throw new RegistryError(`${client.domain}/${repo}:${tag} is not an OCI image index, so it cannot be the referrers index of ${subject}`);
  }
  return index;
}

/**
 * Pushes `artifact` (its blobs, an empty config and its manifest, whose `subject` is `subject`) and makes
 * it discoverable: through the registry's referrers API when it has one, else by adding it to the
 * fallback index tag.
 */
export async function attachReferrer(client: RegistryClient, repo: string, subject: Descriptor, artifact: Artifact): Promise<AttachedReferrer> {
  const config = await putBlob(client, repo, MediaType.ociEmpty, EMPTY_CONFIG);
  const layers: Descriptor[] = [];
  for (const b of artifact.blobs) {
    const d = await putBlob(client, repo, b.mediaType, b.data);
    layers.push(b.annotations ? { ...d, annotations: b.annotations } : d);
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: artifact.artifactType,
    config,
    layers,
    subject: subjectOf(subject),
    ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { descriptor: pushed, ociSubject } = await putManifest(client, repo, sha256(bytes), MediaType.ociManifest, bytes);
  const descriptor: Descriptor = { ...pushed, artifactType: artifact.artifactType, ...(artifact.annotations ? { annotations: artifact.annotations } : {}) };
  if (ociSubject === subject.digest || (await referrersFromApi(client, repo, subject.digest)) !== undefined) return { descriptor, via: 'api' };
  const index = await fallbackIndex(client, repo, subject.digest);
  if (!index.manifests.some((d) => d.digest === descriptor.digest)) {
    index.manifests.push(descriptor);
    await putManifest(client, repo, fallbackTag(subject.digest), MediaType.ociIndex, Buffer.from(JSON.stringify(index)));
  }
  return { descriptor, via: 'fallback-tag' };
}

/** The subject's referrers (API first, the fallback tag otherwise), only those of `artifactType` if given. */
export async function listReferrers(client: RegistryClient, repo: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
  const all = (await referrersFromApi(client, repo, subject)) ?? (await fallbackIndex(client, repo, subject)).manifests;
  return artifactType === undefined ? all : all.filter((d) => d.artifactType === artifactType);
}

/** A referrer's manifest and its layers' bytes (each checked against its digest). */
export async function fetchReferrer(client: RegistryClient, repo: string, referrer: Descriptor): Promise<{ manifest: ImageManifest; blobs: Buffer[] }> {
  const raw = await getManifest(client, repo, referrer.digest);
  if (!raw) throw new RegistryError(`${client.domain}/${repo}@${referrer.digest}: referrer manifest not found`, 404);
  const manifest = JSON.parse(raw.bytes.toString()) as ImageManifest;
  const blobs: Buffer[] = [];
  for (const l of manifest.layers) blobs.push(await getBlob(client, repo, l.digest));
  return { manifest, blobs };
}
