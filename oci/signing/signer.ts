import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * What signs: given bytes, an ASN.1 DER signature over their SHA-256 digest. A key file is one kind;
 * a KMS key or a keyless (Fulcio) identity can implement the same interface later.
 */
export interface Signer {
  /** The public key verifiers check against. */
  readonly publicKey: KeyObject;
  sign(data: Buffer): Promise<Buffer>;
}

/** An ECDSA P-256 private key in memory (loaded from a cosign key file). */
export class EcdsaKeySigner implements Signer {
  readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
  }

  async sign(data: Buffer): Promise<Buffer> {
    // node:crypto gives EC signatures in DER by default, the encoding cosign and openssl use.
    return sign('sha256', data, this.privateKey);
  }
}

/** Whether `signature` (DER) is `publicKey`'s ECDSA/SHA-256 signature over `data`. */
export function verifySignature(publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', data, publicKey, signature);
  } catch {
    return false;
  }
}

/** cosign's and sigstore's key hint: base64 of the SHA-256 of the PKIX DER public key. */
export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}
