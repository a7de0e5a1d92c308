import type { Digest } from '../digest.js';

/** cosign's legacy signature payload ("simple signing"), one per layer of the `.sig` manifest. */

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  critical: { identity: { 'docker-reference': string }; image: { 'docker-manifest-digest': string }; type: string };
  optional: Record<string, unknown> | null;
}

/** The repository as cosign names it (go-containerregistry's `Repository.Name()`: Docker Hub is `index.docker.io`). */
export function dockerReference(domain: string, repo: string): string {
  return `${domain === 'docker.io' ? 'index.docker.io' : domain}/${repo}`;
}

/** The payload bytes that get signed, with cosign's key order. */
export function simpleSigningPayload(reference: string, digest: Digest, annotations?: Record<string, string>): Buffer {
  const payload: SimpleSigningPayload = {
    critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: SIGNATURE_TYPE },
    optional: annotations && Object.keys(annotations).length > 0 ? annotations : null,
  };
  return Buffer.from(JSON.stringify(payload));
}

/** The digest a payload signs for, or why it is not a cosign image signature payload. */
export function payloadDigest(bytes: Buffer): { digest: string } | { error: string } {
  let p: SimpleSigningPayload;
  try {
    p = JSON.parse(bytes.toString()) as SimpleSigningPayload;
  } catch {
    return { error: 'the payload is not JSON' };
  }
  if (p?.critical?.type !== SIGNATURE_TYPE) return { error: `the payload's type is not "${SIGNATURE_TYPE}"` };
  const digest = p.critical.image?.['docker-manifest-digest'];
  return typeof digest === 'string' ? { digest } : { error: 'the payload names no image digest' };
}
