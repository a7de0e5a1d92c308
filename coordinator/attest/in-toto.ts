import type { Digest } from '../../oci/digest.js';
import { parseReference } from '../../oci/reference.js';

/** Media type of an in-toto Statement, as BuildKit and the OCI referrers convention store it. */
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
/** The annotation that says which predicate an attestation's statement carries. */
export const PREDICATE_TYPE_ANNOTATION = 'in-toto.io/predicate-type';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface Statement<P> {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

const enc = (s: string): string => encodeURIComponent(s);

/**
 * An image reference as a package URL, BuildKit's way: `pkg:docker/alpine@latest?platform=linux%2Famd64`
 * (familiar name; the registry host and path are the namespace), `pkg:oci/NAME` for an OCI layout.
 */
export function imagePurl(ref: string, platform?: string): string {
  const qualifiers: string[] = [];
  let type = 'docker';
  let namespace: string[];
  let version = '';
  if (ref.startsWith('oci-layout://')) {
    type = 'oci';
    namespace = ref.slice('oci-layout://'.length).split('/');
  } else {
    const r = parseReference(ref);
    const familiar = r.domain === 'docker.io' ? r.path.replace(/^library\//, '') : `${r.domain}/${r.path}`;
    namespace = familiar.split('/');
    if (r.digest) qualifiers.push(`digest=${enc(r.digest)}`);
    else version = r.tag ?? 'latest';
  }
  if (platform) qualifiers.push(`platform=${enc(platform)}`);
  const name = namespace.pop()!;
  return `pkg:${type}/${namespace.map(enc).map((s) => s + '/').join('')}${enc(name)}${version ? `@${enc(version)}` : ''}${qualifiers.length ? `?${qualifiers.sort().join('&')}` : ''}`;
}

/** `{ sha256: hex }` for a digest. */
export function digestSet(digest: Digest | string): Record<string, string> {
  const colon = digest.indexOf(':');
  return { [digest.slice(0, colon)]: digest.slice(colon + 1) };
}

/**
 * The statement's subjects: the platform manifest under each name it is pushed as, or under its
 * digest when it has no name (an OCI layout without tags).
 */
export function imageSubjects(tags: readonly string[], manifest: Digest, platform: string): Subject[] {
  const names = tags.length ? [...new Set(tags.map((t) => imagePurl(t, platform)))] : ['_'];
  return names.map((name) => ({ name, digest: digestSet(manifest) }));
}

export function statement<P>(subject: Subject[], predicateType: string, predicate: P): Statement<P> {
  return { _type: STATEMENT_TYPE, subject, predicateType, predicate };
}
