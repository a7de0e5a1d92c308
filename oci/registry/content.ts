import { sha256, type Digest } from '../digest.js';
import { MediaType, type Descriptor } from '../manifest.js';
import { pushBlob } from './blob-upload.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';

/** Small manifests and blobs held in memory: what signatures, attestations and referrer indexes are made of. */

export const ACCEPT_MANIFESTS = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].join(', ');

export interface RawManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

const pull = (repo: string): { repo: string; actions: ('pull' | 'push')[] } => ({ repo, actions: ['pull'] });
const push = (repo: string): { repo: string; actions: ('pull' | 'push')[] } => ({ repo, actions: ['pull', 'push'] });

/** A manifest by tag or digest, its bytes checked against a requested digest; undefined when the registry has none. */
export function getManifest(client: RegistryClient, repo: string, reference: string): Promise<RawManifest | undefined> {
  return readManifest(client, repo, reference, true);
}

/** As getManifest, but a missing manifest is the registry's "not found" error. */
export async function fetchManifest(client: RegistryClient, repo: string, reference: string): Promise<RawManifest> {
  return (await readManifest(client, repo, reference, false))!;
}

async function readManifest(client: RegistryClient, repo: string, reference: string, missingOk: boolean): Promise<RawManifest | undefined> {
  const res = await client.request(`/v2/${repo}/manifests/${reference}`, { ...pull(repo), headers: { accept: ACCEPT_MANIFESTS }, ...(missingOk ? { accept: [404] } : {}) });
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  const digest = sha256(bytes);
  if (reference.startsWith('sha256:') && digest !== reference) throw new RegistryError(`${client.domain}/${repo}@${reference}: the registry served a manifest that does not match its digest (got ${digest})`);
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim() || ((JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? '');
  if (mediaType.includes('distribution.manifest.v1')) {
    throw new RegistryError(`${client.domain}/${repo}:${reference} uses Docker image manifest schema 1, which is no longer supported: push it again with a current tool`);
  }
  return { digest, mediaType, bytes };
}

/**
 * Puts a manifest under `reference` (a tag or its digest). Returns its descriptor and the registry's
 * `OCI-Subject` header, which a registry with the referrers API sets when the manifest has a subject.
 */
export async function putManifest(client: RegistryClient, repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<{ descriptor: Descriptor; ociSubject?: string }> {
  const res = await client.request(`/v2/${repo}/manifests/${reference}`, { ...push(repo), method: 'PUT', headers: { 'content-type': mediaType }, body: bytes });
  await res.body?.cancel().catch(() => undefined);
  const ociSubject = res.headers.get('oci-subject') ?? undefined;
  return { descriptor: { mediaType, digest: sha256(bytes), size: bytes.length }, ...(ociSubject ? { ociSubject } : {}) };
}

/** Uploads a blob unless the repository has it already; returns its descriptor. */
export async function putBlob(client: RegistryClient, repo: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = sha256(bytes);
  const head = await client.request(`/v2/${repo}/blobs/${digest}`, { ...push(repo), method: 'HEAD', accept: [404] });
  if (head.status === 404) {
    await pushBlob(client, repo, digest, bytes.length, (async function* () {
      yield bytes;
    })());
  }
  return { mediaType, digest, size: bytes.length };
}

/** A blob's bytes, checked against its digest. */
export async function getBlob(client: RegistryClient, repo: string, digest: Digest): Promise<Buffer> {
  const res = await client.request(`/v2/${repo}/blobs/${digest}`, pull(repo));
  const bytes = Buffer.from(await res.arrayBuffer());
  if (sha256(bytes) !== digest) throw new RegistryError(`${client.domain}/${repo}: blob ${digest} does not match its digest`);
  return bytes;
}
