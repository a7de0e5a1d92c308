import type { KeyObject } from 'node:crypto';
import type { Digest } from '../digest.js';
import { keyHint, verifySignature, type Signer } from './signer.js';

/**
 * Sigstore bundles v0.3 holding a DSSE envelope, signed with a key (no certificate, no transparency
 * log): the form `cosign sign --key` writes by default since cosign 3, and the one signed attestations
 * (provenance, SBOM) take.
 */

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** The predicate of cosign 3's image signatures. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
/** Annotations cosign puts on the bundle's referrer manifest. */
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid?: string }[];
}

export interface SigstoreBundle {
  mediaType: string;
  verificationMaterial: { publicKey?: { hint: string }; tlogEntries: unknown[]; timestampVerificationData?: unknown };
  dsseEnvelope?: DsseEnvelope;
}

export interface InTotoStatement {
  _type: string;
  subject: { name?: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
}

/** DSSE's pre-authentication encoding: what is actually signed. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** An in-toto Statement about one image digest. */
export function statement(subject: Digest, predicateType: string, predicate: unknown, name?: string): Buffer {
  const s: InTotoStatement = { _type: IN_TOTO_STATEMENT_V1, subject: [{ ...(name ? { name } : {}), digest: { sha256: subject.slice('sha256:'.length) } }], predicateType, predicate };
  return Buffer.from(JSON.stringify(s));
}

/** A bundle with `payload` signed by `signer` in a DSSE envelope. */
export async function signedBundle(signer: Signer, payloadType: string, payload: Buffer): Promise<Buffer> {
  const sig = await signer.sign(pae(payloadType, payload));
  const bundle: SigstoreBundle = {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyHint(signer.publicKey) }, tlogEntries: [] },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64') }] },
  };
  return Buffer.from(JSON.stringify(bundle));
}

/** The statement inside a bundle whose DSSE signature `publicKey` made, or why not. */
export function openBundle(bytes: Buffer, publicKey: KeyObject): { statement: InTotoStatement } | { error: string } {
  let b: SigstoreBundle;
  try {
    b = JSON.parse(bytes.toString()) as SigstoreBundle;
  } catch {
    return { error: 'the bundle is not JSON' };
  }
  if (b?.mediaType !== BUNDLE_MEDIA_TYPE) return { error: `the bundle's media type is ${JSON.stringify(b?.mediaType)}, not ${BUNDLE_MEDIA_TYPE}` };
  const env = b.dsseEnvelope;
  if (!env || typeof env.payload !== 'string' || !Array.isArray(env.signatures)) return { error: 'the bundle holds no DSSE envelope' };
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { error: `the envelope's payload type is ${JSON.stringify(env.payloadType)}` };
  const payload = Buffer.from(env.payload, 'base64');
  if (!env.signatures.some((s) => typeof s.sig === 'string' && verifySignature(publicKey, pae(env.payloadType, payload), Buffer.from(s.sig, 'base64')))) {
    return { error: 'the DSSE signature does not verify with this key' };
  }
  try {
    return { statement: JSON.parse(payload.toString()) as InTotoStatement };
  } catch {
    return { error: 'the signed payload is not an in-toto statement' };
  }
}
