import type { KeyObject } from 'node:crypto';
import type { Digest } from '../digest.js';
import type { RegistryClient } from '../registry/client.js';
import { fetchReferrer, listReferrers } from '../registry/referrers.js';
import { legacySignatures, signatureTag, type SignatureFormat } from './image-signatures.js';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, COSIGN_SIGN_PREDICATE, openBundle } from './sigstore-bundle.js';
import { verifySignature } from './signer.js';
import { payloadDigest } from './simple-signing.js';

export interface VerifyOutcome {
  /** Signatures that verified, each said as where it was found. */
  verified: { format: SignatureFormat; where: string }[];
  /** Signatures found that did not verify, and why. */
  rejected: string[];
}

async function verifyLegacy(client: RegistryClient, repo: string, subject: Digest, key: KeyObject, out: VerifyOutcome): Promise<void> {
  const tag = signatureTag(subject);
  for (const [i, s] of (await legacySignatures(client, repo, subject)).entries()) {
    const where = `${tag} layer ${i + 1}`;
    const named = payloadDigest(s.payload);
    if (s.signature === undefined) out.rejected.push(`${where}: no signature annotation`);
    else if (!verifySignature(key, s.payload, Buffer.from(s.signature, 'base64'))) out.rejected.push(`${where}: the signature does not verify with the key`);
    else if ('error' in named) out.rejected.push(`${where}: ${named.error}`);
    else if (named.digest !== subject) out.rejected.push(`${where}: the payload signs ${named.digest}, not ${subject}`);
    else out.verified.push({ format: 'legacy', where });
  }
}

async function verifyBundles(client: RegistryClient, repo: string, subject: Digest, key: KeyObject, out: VerifyOutcome): Promise<void> {
  const hex = subject.slice('sha256:'.length);
  for (const r of await listReferrers(client, repo, subject, BUNDLE_MEDIA_TYPE)) {
    // Attestations (provenance, SBOM) are bundles too; only cosign's signature predicate signs the image.
    const predicate = r.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
    if (predicate !== undefined && predicate !== COSIGN_SIGN_PREDICATE) continue;
    const where = `bundle referrer ${r.digest}`;
    const { manifest, blobs } = await fetchReferrer(client, repo, r);
    if (manifest.subject?.digest !== subject) {
      out.rejected.push(`${where}: its subject is ${manifest.subject?.digest ?? 'missing'}, not ${subject}`);
      continue;
    }
    for (const blob of blobs) {
      const opened = openBundle(blob, key);
      if ('error' in opened) out.rejected.push(`${where}: ${opened.error}`);
      else if (opened.statement.predicateType !== COSIGN_SIGN_PREDICATE) out.rejected.push(`${where}: the statement's predicate is ${opened.statement.predicateType}, not ${COSIGN_SIGN_PREDICATE}`);
      else if (!opened.statement.subject?.some((s) => s.digest?.sha256 === hex)) out.rejected.push(`${where}: the statement is not about ${subject}`);
      else out.verified.push({ format: 'bundle', where });
    }
  }
}

/** Checks every signature of `subject` in `formats` against `key`. */
export async function verifyImageSignatures(client: RegistryClient, repo: string, subject: Digest, key: KeyObject, formats: readonly SignatureFormat[]): Promise<VerifyOutcome> {
  const out: VerifyOutcome = { verified: [], rejected: [] };
  if (formats.includes('legacy')) await verifyLegacy(client, repo, subject, key, out);
  if (formats.includes('bundle')) await verifyBundles(client, repo, subject, key, out);
  return out;
}
