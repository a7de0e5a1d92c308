import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { Registries, registrySettings } from '../coordinator/registry/registry-images.js';
import { resolveSubject, signManifest } from '../coordinator/registry/signing.js';
import { ExpectedError } from '../oci/expected-error.js';
import { formatReference, parseReference, type ImageReference } from '../oci/reference.js';
import type { SignatureFormat } from '../oci/signing/image-signatures.js';
import { decryptPrivateKey, generateKeyPair, KeyFileError, readPublicKey } from '../oci/signing/cosign-key.js';
import { EcdsaKeySigner, type Signer } from '../oci/signing/signer.js';
import { verifyImageSignatures } from '../oci/signing/verify-image.js';
import { parseCommandArgs, UsageError } from './errors.js';
import { parseSignatureFormat } from './signature-format.js';
import { keyPassword } from './password.js';

export const generateKeyPairHelp = `Usage: dockyard generate-key-pair [--output-key-prefix PREFIX]

Write a new ECDSA P-256 key pair as cosign does: PREFIX.key (encrypted with a password from
COSIGN_PASSWORD, or asked on the terminal) and PREFIX.pub, in the current directory. Existing files
are never overwritten.

Options:
      --output-key-prefix PREFIX  Name of the files (default: cosign)
`;

export const signHelp = `Usage: dockyard sign --key KEY [--signature-format legacy|bundle|both] IMAGE[@DIGEST]

Sign an image already in a registry, as cosign sign does; the key's password comes from
COSIGN_PASSWORD or is asked on the terminal. Credentials come from Docker's config.json.

Options:
      --key FILE                 cosign private key file (cosign.key)
      --signature-format FORMAT  legacy (tag sha256-<hex>.sig), bundle (Sigstore bundle referrer) or both (default)
`;

export const verifyHelp = `Usage: dockyard verify --key PUB [--signature-format legacy|bundle|both] IMAGE[@DIGEST]

Check that IMAGE has a signature made with the key whose public half is PUB (cosign.pub), in the
legacy format, as a Sigstore bundle, or either (both, the default). Prints each signature that
verified; exits 1, with the reason, when none does.

Options:
      --key FILE                 Public key file (cosign.pub, PKIX PEM)
      --signature-format FORMAT  legacy, bundle or both (default: either may verify)
`;

export class VerifyError extends ExpectedError {}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyFileError(`${path}: cannot read the key file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** The signer of a cosign private key file; asks for its password. */
export async function loadSigner(keyPath: string): Promise<Signer> {
  const text = readKeyFile(keyPath);
  const password = await keyPassword(false);
  try {
    return new EcdsaKeySigner(decryptPrivateKey(text, password, keyPath));
  } finally {
    password.fill(0);
  }
}

const registries = (): Registries => new Registries({ insecure: registrySettings().insecure });

function parse(argv: string[], command: string, options: NonNullable<ParseArgsConfig['options']>): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  return parseCommandArgs(command, { args: argv, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

export async function generateKeyPairCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse(argv, 'generate-key-pair', { 'output-key-prefix': { type: 'string' } });
  if (values.help) return out.write(generateKeyPairHelp), 0;
  if (positionals.length > 0) throw new UsageError(`"dockyard generate-key-pair" takes no arguments. See 'dockyard generate-key-pair --help'`);
  const prefix = (values['output-key-prefix'] as string | undefined) ?? 'cosign';
  for (const file of [`${prefix}.key`, `${prefix}.pub`]) {
    if (existsSync(file)) throw new UsageError(`${file} already exists: remove it first, or choose another --output-key-prefix`);
  }
  const password = await keyPassword(true);
  const { privatePem, publicPem } = generateKeyPair(password);
  password.fill(0);
  // 'wx': never overwrite, as cosign refuses to without asking.
  const write = (file: string, text: string, mode: number): void => {
    try {
      writeFileSync(file, text, { flag: 'wx', mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${file} already exists: remove it first, or choose another --output-key-prefix`);
      throw new KeyFileError(`${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  write(`${prefix}.key`, privatePem, 0o600);
  write(`${prefix}.pub`, publicPem, 0o644);
  process.stderr.write(`Private key written to ${prefix}.key\nPublic key written to ${prefix}.pub\n`);
  return 0;
}

/** `sign` and `verify` take the same arguments: `--key FILE [--signature-format F] IMAGE`. */
function imageArgs(argv: string[], command: 'sign' | 'verify', keyWhat: string): { key: string; formats: SignatureFormat[]; ref: ImageReference; text: string } | 'help' {
  const { values, positionals } = parse(argv, command, { key: { type: 'string' }, 'signature-format': { type: 'string' } });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(`"dockyard ${command}" requires exactly 1 argument (the image). See 'dockyard ${command} --help'`);
  if (typeof values.key !== 'string') throw new UsageError(`dockyard ${command} needs --key ${keyWhat}`);
  return { key: values.key, formats: parseSignatureFormat(values['signature-format'] as string | undefined), ref: parseReference(positionals[0]!), text: positionals[0]! };
}

export async function signCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = imageArgs(argv, 'sign', 'KEY (a cosign private key file; keyless signing is not supported)');
  if (a === 'help') return out.write(signHelp), 0;
  const signer = await loadSigner(a.key);
  if (!a.ref.digest) process.stderr.write(`WARNING: ${a.text} names a tag, not a digest: signing what the tag points at now\n`);
  const regs = registries();
  const subject = await resolveSubject(regs, a.ref);
  for (const line of await signManifest(regs, { domain: a.ref.domain, path: a.ref.path }, subject, { signer, formats: a.formats })) out.write(line + '\n');
  return 0;
}

export async function verifyCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = imageArgs(argv, 'verify', 'PUB (a public key file, such as cosign.pub)');
  if (a === 'help') return out.write(verifyHelp), 0;
  const { ref, formats } = a;
  const key = readPublicKey(readKeyFile(a.key), a.key);
  const regs = registries();
  const subject = await resolveSubject(regs, ref);
  const name = `${ref.domain}/${ref.path}@${subject.digest}`;
  const outcome = await verifyImageSignatures(regs.client(ref.domain), ref.path, subject.digest, key, formats);
  if (outcome.verified.length === 0) {
    const what = formats.length === 2 ? 'signature' : formats[0] === 'legacy' ? 'legacy signature' : 'Sigstore bundle signature';
    throw new VerifyError(
      outcome.rejected.length === 0
        ? `${formatReference(ref)}: no ${what} found for ${subject.digest}`
        : `${formatReference(ref)}: no valid ${what} for ${a.key} (${outcome.rejected.length} checked; ${outcome.rejected[0]})`,
    );
  }
  for (const v of outcome.verified) out.write(`verified ${name}: ${v.format === 'legacy' ? 'legacy cosign signature' : 'Sigstore bundle'} (${v.where})\n`);
  return 0;
}
