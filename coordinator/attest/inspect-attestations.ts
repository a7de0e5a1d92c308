import type { Digest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { fetchReferrer, listReferrers } from '../../oci/registry/referrers.js';
import { RegistryError } from '../../oci/registry/errors.js';
import type { Registries } from '../registry/registry-images.js';
import { IN_TOTO_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, type Statement } from './in-toto.js';
import { SLSA_PROVENANCE_V1 } from './provenance.js';
import { SPDX_PREDICATE_TYPE } from './spdx.js';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, COSIGN_SIGN_PREDICATE, type SigstoreBundle } from '../../oci/signing/sigstore-bundle.js';

export interface FoundAttestation {
  descriptor: Descriptor;
  predicateType: string;
  /** Stored as a Sigstore bundle: the statement is the payload of a signed DSSE envelope. */
  signed: boolean;
}

/** An in-toto referrer, or a Sigstore bundle of an attestation (not cosign's image signature, whose predicate is its own). */
function asAttestation(descriptor: Descriptor): FoundAttestation | undefined {
  const a = descriptor.annotations ?? {};
  if (descriptor.artifactType === IN_TOTO_MEDIA_TYPE) return { descriptor, predicateType: a[PREDICATE_TYPE_ANNOTATION] ?? '', signed: false };
  const predicateType = a[BUNDLE_PREDICATE_ANNOTATION];
  if (descriptor.artifactType === BUNDLE_MEDIA_TYPE && predicateType && predicateType !== COSIGN_SIGN_PREDICATE) return { descriptor, predicateType, signed: true };
  return undefined;
}

/** One platform image of an inspected reference, with the attestations that refer to it. */
export interface PlatformAttestations {
  platform: string;
  digest: Digest;
  attestations: FoundAttestation[];
}

/** The in-toto referrers of each image (by the referrers API, or the `sha256-<hex>` fallback tag). */
export async function findAttestations(registries: Registries, domain: string, repo: string, images: readonly { platform: string; digest: Digest }[]): Promise<PlatformAttestations[]> {
  const client = registries.client(domain);
  const out: PlatformAttestations[] = [];
  for (const img of images) {
    const found = await listReferrers(client, repo, img.digest);
    out.push({ ...img, attestations: found.map(asAttestation).filter((a) => a !== undefined) });
  }
  return out;
}

/** The statement an attestation holds, unwrapped from its bundle's DSSE envelope when signed (shown, not verified: as buildx imagetools, this only displays). */
export async function readStatement(registries: Registries, domain: string, repo: string, found: FoundAttestation): Promise<Statement<unknown>> {
  const { manifest, blobs } = await fetchReferrer(registries.client(domain), repo, found.descriptor);
  const layer = manifest.layers[0];
  if (!layer || !blobs[0]) throw new RegistryError(`${domain}/${repo}@${found.descriptor.digest}: the attestation has no layer`);
  const parse = (bytes: Buffer): unknown => {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RegistryError(`${domain}/${repo}@${found.descriptor.digest}: the attestation is not JSON`);
    }
  };
  const body = layer.mediaType === BUNDLE_MEDIA_TYPE ? Buffer.from((parse(blobs[0]) as SigstoreBundle).dsseEnvelope?.payload ?? '', 'base64') : blobs[0];
  return parse(body) as Statement<unknown>;
}

/**
 * buildx's `{{json .Provenance}}` and `{{json .SBOM}}`, keyed by platform: `{ "linux/amd64": { SLSA: predicate } }`
 * and `{ "linux/amd64": { SPDX: document } }`. Platforms without one are left out.
 */
export async function attestationsJson(registries: Registries, domain: string, repo: string, found: readonly PlatformAttestations[]): Promise<{ Provenance: Record<string, { SLSA: unknown }>; SBOM: Record<string, { SPDX: unknown }> }> {
  const Provenance: Record<string, { SLSA: unknown }> = {};
  const SBOM: Record<string, { SPDX: unknown }> = {};
  for (const p of found) {
    for (const a of p.attestations) {
      if (a.predicateType === SLSA_PROVENANCE_V1 && !Provenance[p.platform]) Provenance[p.platform] = { SLSA: (await readStatement(registries, domain, repo, a)).predicate };
      if (a.predicateType === SPDX_PREDICATE_TYPE && !SBOM[p.platform]) SBOM[p.platform] = { SPDX: (await readStatement(registries, domain, repo, a)).predicate };
    }
  }
  return { Provenance, SBOM };
}
