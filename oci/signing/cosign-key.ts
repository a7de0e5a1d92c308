import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { ExpectedError } from '../expected-error.js';

/**
 * cosign's key files. The private key is a PEM block whose body is JSON (go-securesystemslib's
 * `encrypted` format): scrypt derives a 32-byte key from the password with the file's N, r, p and salt,
 * and nacl/secretbox seals the PKCS#8 DER of the key. cosign writes the `ENCRYPTED SIGSTORE PRIVATE KEY`
 * label and still reads the older `ENCRYPTED COSIGN PRIVATE KEY`. The public key is a PKIX PEM.
 */

export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';

/** cosign's defaults when it writes a key (go-securesystemslib: N=2^15, r=8, p=1, 32-byte salt). */
const SCRYPT = { N: 32768, r: 8, p: 1 };
const SALT_BYTES = 32;

export class KeyFileError extends ExpectedError {}

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function pemBlock(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The first PEM block of `text`: its label and decoded body. */
function readPem(text: string, where: string): { label: string; body: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new KeyFileError(`${where}: not a PEM file`);
  return { label: m[1]!, body: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}

/** scrypt's memory need (128·N·r bytes) plus room: Node refuses beyond its 32 MiB default otherwise. */
const scryptKey = (password: Buffer, salt: Buffer, p: { N: number; r: number; p: number }): Buffer =>
  scryptSync(password, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + (1 << 20) });

function isEncryptedKeyJson(v: unknown): v is EncryptedKeyJson {
  const j = v as EncryptedKeyJson;
  return typeof j?.kdf?.salt === 'string' && typeof j.kdf.params?.N === 'number' && typeof j.kdf.params.r === 'number' && typeof j.kdf.params.p === 'number' && typeof j.cipher?.nonce === 'string' && typeof j.ciphertext === 'string';
}

/** Seals a private key as cosign does, with a fresh salt and nonce. */
export function encryptPrivateKey(key: KeyObject, password: Buffer): string {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const sealed = nacl.secretbox(der, nonce, scryptKey(password, salt, SCRYPT));
  const json: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: SCRYPT, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(sealed).toString('base64'),
  };
  return pemBlock(SIGSTORE_KEY_LABEL, Buffer.from(JSON.stringify(json)));
}

/**
 * Opens a cosign private key file (`where` names it in messages). Like cosign, it takes only the two
 * encrypted labels and only a PKCS#8 plaintext, and here only ECDSA P-256 (the one signer we have).
 */
export function decryptPrivateKey(text: string, password: Buffer, where: string): KeyObject {
  const { label, body } = readPem(text, where);
  if (label !== SIGSTORE_KEY_LABEL && label !== COSIGN_KEY_LABEL) throw new KeyFileError(`${where}: unsupported PEM type ${label} (want ${SIGSTORE_KEY_LABEL}, as cosign generate-key-pair writes)`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString());
  } catch {
    throw new KeyFileError(`${where}: the PEM body is not cosign's encrypted key JSON`);
  }
  if (!isEncryptedKeyJson(json)) throw new KeyFileError(`${where}: the encrypted key JSON lacks kdf, cipher or ciphertext`);
  if (json.kdf.name !== 'scrypt' || json.cipher.name !== 'nacl/secretbox') throw new KeyFileError(`${where}: unsupported encryption ${json.kdf.name}/${json.cipher.name} (want scrypt/nacl/secretbox)`);
  const { N, r, p } = json.kdf.params;
  if (!(N > 1 && (N & (N - 1)) === 0 && r > 0 && p > 0 && N * r <= 1 << 22)) throw new KeyFileError(`${where}: unreasonable scrypt parameters N=${N} r=${r} p=${p}`);
  const opened = nacl.secretbox.open(Buffer.from(json.ciphertext, 'base64'), Buffer.from(json.cipher.nonce, 'base64'), scryptKey(password, Buffer.from(json.kdf.salt, 'base64'), { N, r, p }));
  if (!opened) throw new KeyFileError(`${where}: wrong password (decryption failed)`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  } catch {
    throw new KeyFileError(`${where}: the decrypted key is ${isSec1(opened) ? 'a SEC1 EC key' : 'not a key'}, not PKCS#8 as cosign's key files hold (cosign refuses it too)`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyFileError(`${where}: only ECDSA P-256 keys can sign here (this one is ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''})`);
  }
  return key;
}

function isSec1(der: Uint8Array): boolean {
  try {
    createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'sec1' });
    return true;
  } catch {
    return false;
  }
}

/** A PKIX public key PEM (what `cosign public-key` prints). */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Reads a PKIX public key PEM; ECDSA P-256 only. */
export function readPublicKey(text: string, where: string): KeyObject {
  const { label } = readPem(text, where);
  if (label !== 'PUBLIC KEY') throw new KeyFileError(`${where}: expected a PUBLIC KEY PEM block, found ${label}`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    throw new KeyFileError(`${where}: not a valid PKIX public key`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new KeyFileError(`${where}: only ECDSA P-256 public keys are supported`);
  return key;
}

/** A new ECDSA P-256 key pair, as `cosign generate-key-pair` makes by default. */
export function generateKeyPair(password: Buffer): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privatePem: encryptPrivateKey(privateKey, password), publicPem: publicKeyPem(publicKey) };
}
