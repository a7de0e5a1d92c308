import type { Digest } from '../digest.js';
import { MediaType, type Descriptor, type ImageManifest } from '../manifest.js';
import type { RegistryClient } from '../registry/client.js';
import { getBlob, getManifest, putBlob, putManifest } from '../registry/content.js';
import { attachReferrer, type AttachedReferrer } from '../registry/referrers.js';
import { BUNDLE_CONTENT_ANNOTATION, BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, COSIGN_SIGN_PREDICATE, IN_TOTO_PAYLOAD_TYPE, signedBundle, statement } from './sigstore-bundle.js';
import type { Signer } from './signer.js';
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload } from './simple-signing.js';

/** The two ways an image signature is stored, as cosign writes them. */
export type SignatureFormat = 'legacy' | 'bundle';

/** cosign's legacy signature tag for an image digest: `sha256-<hex>.sig`. */
export function signatureTag(subject: Digest): string {
  return `${subject.replace(':', '-')}.sig`;
}

/**
 * Adds a legacy cosign signature of `subject`: one more simple-signing layer, carrying its signature
 * annotation, in the manifest at `sha256-<hex>.sig` (created when absent).
 */
export async function attachLegacySignature(client: RegistryClient, repo: string, subject: Digest, signer: Signer, dockerReference: string): Promise<{ tag: string; layers: number }> {
  const payload = simpleSigningPayload(dockerReference, subject);
  const signature = await signer.sign(payload);
  const tag = signatureTag(subject);
  const existing = await getManifest(client, repo, tag);
  const layers: Descriptor[] = existing ? (JSON.parse(existing.bytes.toString()) as ImageManifest).layers : [];
  const layer = await putBlob(client, repo, SIMPLE_SIGNING_MEDIA_TYPE, payload);
  layers.push({ ...layer, annotations: { [SIGNATURE_ANNOTATION]: signature.toString('base64') } });
  // A minimal image config, as cosign's signature images have: the payloads are the (uncompressed) layers.
  const config = await putBlob(client, repo, MediaType.ociConfig, Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers };
  await putManifest(client, repo, tag, MediaType.ociManifest, Buffer.from(JSON.stringify(manifest)));
  return { tag, layers: layers.length };
}

/** The layers of the `.sig` manifest: each payload with its signature annotation (if any). */
export async function legacySignatures(client: RegistryClient, repo: string, subject: Digest): Promise<{ payload: Buffer; signature?: string }[]> {
  const raw = await getManifest(client, repo, signatureTag(subject));
  if (!raw) return [];
  const manifest = JSON.parse(raw.bytes.toString()) as ImageManifest;
  const found: { payload: Buffer; signature?: string }[] = [];
  for (const l of manifest.layers ?? []) {
    if (l.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    const signature = l.annotations?.[SIGNATURE_ANNOTATION];
    found.push({ payload: await getBlob(client, repo, l.digest), ...(signature !== undefined ? { signature } : {}) });
  }
  return found;
}

/**
 * Attaches a Sigstore bundle signing `subject` as an OCI referrer: a DSSE envelope of an in-toto
 * statement with cosign's signature predicate, annotated as cosign annotates it.
 */
export async function attachBundleSignature(client: RegistryClient, repo: string, subject: Descriptor, signer: Signer, created: Date): Promise<AttachedReferrer> {
  const bundle = await signedBundle(signer, IN_TOTO_PAYLOAD_TYPE, statement(subject.digest, COSIGN_SIGN_PREDICATE, {}));
  return attachReferrer(client, repo, subject, {
    artifactType: BUNDLE_MEDIA_TYPE,
    blobs: [{ mediaType: BUNDLE_MEDIA_TYPE, data: bundle }],
    annotations: {
      'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
      [BUNDLE_PREDICATE_ANNOTATION]: COSIGN_SIGN_PREDICATE,
    },
  });
}
