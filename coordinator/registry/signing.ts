import type { Descriptor } from '../../oci/manifest.js';
import { getManifest } from '../../oci/registry/content.js';
import { RegistryError } from '../../oci/registry/errors.js';
import { formatReference, parseReference, type ImageReference } from '../../oci/reference.js';
import { attachBundleSignature, attachLegacySignature, type SignatureFormat } from '../../oci/signing/image-signatures.js';
import type { Signer } from '../../oci/signing/signer.js';
import { dockerReference } from '../../oci/signing/simple-signing.js';
import type { Progress } from '../progress/progress.js';
import type { Registries } from './registry-images.js';

/** One repository of a registry. */
export interface Repository {
  domain: string;
  path: string;
}

export interface SignOptions {
  signer: Signer;
  formats: readonly SignatureFormat[];
  /** The bundle referrer's `org.opencontainers.image.created`. */
  now?: Date;
}

/** What a reference names in its registry: the manifest's descriptor (by digest when given, else by tag). */
export async function resolveSubject(registries: Registries, ref: ImageReference): Promise<Descriptor> {
  const raw = await getManifest(registries.client(ref.domain), ref.path, ref.digest ?? ref.tag!);
  if (!raw) throw new RegistryError(`${formatReference(ref)}: manifest not found`, 404);
  return { mediaType: raw.mediaType, digest: raw.digest, size: raw.bytes.length };
}

/** Signs `subject`, already pushed to `repo`, in each format; returns one line per signature written. */
export async function signManifest(registries: Registries, repo: Repository, subject: Descriptor, o: SignOptions): Promise<string[]> {
  const client = registries.client(repo.domain);
  const name = `${repo.domain}/${repo.path}@${subject.digest}`;
  const lines: string[] = [];
  if (o.formats.includes('legacy')) {
    const { tag } = await attachLegacySignature(client, repo.path, subject.digest, o.signer, dockerReference(repo.domain, repo.path));
    lines.push(`signed ${name}: legacy signature at ${repo.domain}/${repo.path}:${tag}`);
  }
  if (o.formats.includes('bundle')) {
    const r = await attachBundleSignature(client, repo.path, subject, o.signer, o.now ?? new Date());
    lines.push(`signed ${name}: Sigstore bundle ${r.descriptor.digest} (${r.via === 'api' ? 'referrers API' : `referrers tag ${subject.digest.replace(':', '-')}`})`);
  }
  return lines;
}

/** The repositories a build pushed to: those of its push outputs' names, or of its tags. */
export function repositoriesOf(names: readonly string[]): Repository[] {
  const seen = new Map<string, Repository>();
  for (const n of names) {
    const r = parseReference(n);
    seen.set(`${r.domain}/${r.path}`, { domain: r.domain, path: r.path });
  }
  return [...seen.values()];
}

/**
 * Signs each pushed manifest (each platform's, and the index of several) in each repository of
 * `names`, as one step of the build's progress, a line per signature.
 */
export async function signPushed(registries: Registries, names: readonly string[], manifests: readonly Descriptor[], o: SignOptions, progress: Progress): Promise<void> {
  const id = progress.start(`signing ${manifests.length} manifest${manifests.length > 1 ? 's' : ''}`);
  try {
    for (const repo of repositoriesOf(names)) {
      for (const m of manifests) for (const line of await signManifest(registries, repo, m, o)) progress.note(id, line);
    }
    progress.done(id);
  } catch (err) {
    progress.error(id, (err as Error).message);
    throw err;
  }
}

/** What a build pushed and signs: each image's manifest, and the index over several platforms. */
export function pushedManifests(result: { images: readonly { manifest: Descriptor }[]; top: Descriptor }): Descriptor[] {
  return [...result.images.map((i) => i.manifest), ...(result.images.length > 1 ? [result.top] : [])];
}
