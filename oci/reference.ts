import { ExpectedError } from './expected-error.js';

/** Image references with Docker's normalisation: `ubuntu` is `docker.io/library/ubuntu:latest`. */
export interface ImageReference {
  /** Registry host, with port if any: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path within the registry: `library/ubuntu`. */
  path: string;
  tag?: string;
  digest?: string;
}

export class InvalidReferenceError extends ExpectedError {}

export const DOCKER_HUB = 'docker.io';

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const domainPattern = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export function parseReference(text: string): ImageReference {
  const bad = (why: string): never => {
    throw new InvalidReferenceError(`invalid reference format ${JSON.stringify(text)}: ${why}`);
  };
  if (text === '') bad('empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) bad('bad digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) bad('bad tag');
  }
  let domain = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!domainPattern.test(domain)) bad('bad registry host');
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes('/')) path = 'library/' + path;
  if (path.toLowerCase() !== path) bad(`repository name (${path}) must be lowercase`);
  if (path === '' || !path.split('/').every((c) => pathComponent.test(c))) bad('bad repository name');
  if (domain.length + path.length > 255) bad('repository name must not be more than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, tag, digest };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}` + (ref.tag !== undefined ? ':' + ref.tag : '') + (ref.digest !== undefined ? '@' + ref.digest : '');
}

/** The canonical form, `docker.io/library/ubuntu:latest`. */
export function normalizeReference(text: string): string {
  return formatReference(parseReference(text));
}
