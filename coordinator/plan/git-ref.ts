import { posix } from 'node:path';

/**
 * A git source as ADD names it, following BuildKit's `dfgitutil.ParseGitRef`:
 * `https://host/org/repo.git#ref:subdir`, `git://...`, `ssh://...`, `user@host:org/repo.git`, with the
 * query form `?ref=&tag=&branch=&subdir=&checksum=&keep-git-dir=&submodules=&mtime=&fetch-by-commit=`.
 */
export interface GitRef {
  /** What git is given: the URL without fragment and query (credentials included, if any). */
  remote: string;
  /** A branch, tag, full ref name or commit; empty for the remote's default branch. */
  ref: string;
  /** A directory inside the repository, without leading slash; empty for the whole tree. */
  subdir: string;
  /** `checksum=`/`commit=`: a commit (prefix) the ref must resolve to. */
  checksum?: string;
  keepGitDir?: boolean;
  submodules?: boolean;
  mtime?: 'checkout' | 'commit';
  /** Trust `checksum` as the commit instead of asking the remote. */
  fetchByCommit: boolean;
}

const SCHEME = /^[a-zA-Z0-9]+:\/\//;
const GIT_SCHEMES = new Set(['http', 'https', 'ssh', 'git']);
/** scp-like `user@host:path[?query][#fragment]`, as BuildKit's sshutil accepts it. */
const SCP = /^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$/;

export class GitRefError extends Error {}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * Parses `src` as a git source. Undefined when it is not one (a local path, or an http(s) URL whose
 * path does not end in `.git`); throws GitRefError when it is one but its query is invalid.
 */
export function parseGitRef(src: string): GitRef | undefined {
  if (src.startsWith('./') || src.startsWith('../') || src.startsWith('github.com/')) return undefined;
  let remote: string;
  let query: string;
  let fragment: string;
  const scheme = SCHEME.exec(src)?.[0];
  if (scheme) {
    const proto = scheme.slice(0, -3).toLowerCase();
    if (!GIT_SCHEMES.has(proto)) return undefined;
    let url: URL;
    try {
      url = new URL(src);
    } catch {
      return undefined;
    }
    if ((proto === 'http' || proto === 'https') && !url.pathname.endsWith('.git')) return undefined;
    const hash = src.indexOf('#');
    const beforeHash = hash < 0 ? src : src.slice(0, hash);
    fragment = hash < 0 ? '' : safeDecode(src.slice(hash + 1));
    const q = beforeHash.indexOf('?');
    remote = q < 0 ? beforeHash : beforeHash.slice(0, q);
    query = q < 0 ? '' : beforeHash.slice(q + 1);
  } else {
    const m = SCP.exec(src);
    if (!m) return undefined;
    remote = `${m[1]}@${m[2]}:${m[3]}`;
    query = m[4] ?? '';
    fragment = m[5] ?? '';
  }
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : cleanSubdir(fragment.slice(colon + 1));
  const parsed: GitRef = { remote, ref, subdir, fetchByCommit: false };
  applyQuery(parsed, query);
  return parsed;
}

function cleanSubdir(s: string): string {
  return posix.join('/', s).slice(1).replace(/\/+$/, '');
}

function parseBool(key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new GitRefError(`invalid ${key} value: ${JSON.stringify(value)}`);
}

function applyQuery(g: GitRef, query: string): void {
  if (query === '') return;
  const params = new URLSearchParams(query);
  let tag = '';
  let branch = '';
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    if (all.length > 1) throw new GitRefError(`query ${JSON.stringify(key)} has multiple values`);
    const flagLike = key === 'submodules' || key === 'keep-git-dir' || key === 'fetch-by-commit';
    const value = all[0] === '' ? undefined : all[0];
    if (value === undefined && !flagLike) throw new GitRefError(`query ${JSON.stringify(key)} has no value`);
    switch (key) {
      case 'ref':
        if (g.ref !== '' && g.ref !== value) throw new GitRefError(`ref conflicts: ${JSON.stringify(g.ref)} vs ${JSON.stringify(value)}`);
        g.ref = value!;
        break;
      case 'tag':
        tag = value!;
        break;
      case 'branch':
        branch = value!;
        break;
      case 'subdir': {
        const subdir = cleanSubdir(value!);
        if (g.subdir !== '' && g.subdir !== subdir) throw new GitRefError(`subdir conflicts: ${JSON.stringify(g.subdir)} vs ${JSON.stringify(value)}`);
        g.subdir = subdir;
        break;
      }
      case 'checksum':
      case 'commit':
        g.checksum = value!;
        break;
      case 'keep-git-dir':
        g.keepGitDir = parseBool(key, value);
        break;
      case 'submodules':
        g.submodules = parseBool(key, value);
        break;
      case 'fetch-by-commit':
        g.fetchByCommit = parseBool(key, value);
        break;
      case 'mtime':
        if (value !== 'checkout' && value !== 'commit') throw new GitRefError(`invalid mtime value: ${JSON.stringify(value)} (must be "checkout" or "commit")`);
        g.mtime = value;
        break;
      default:
        throw new GitRefError(`unexpected query ${JSON.stringify(key)}`);
    }
  }
  if (tag !== '' && branch !== '') throw new GitRefError('branch conflicts with tag');
  const named = tag !== '' ? (tag.startsWith('refs/tags/') ? tag : 'refs/tags/' + tag) : branch !== '' ? (branch.startsWith('refs/heads/') ? branch : 'refs/heads/' + branch) : '';
  if (named !== '') {
    if (g.ref !== '' && g.ref !== named) throw new GitRefError(`ref conflicts: ${JSON.stringify(g.ref)} vs ${JSON.stringify(named)}`);
    g.ref = named;
  }
}

/** A full commit id (SHA-1 or SHA-256), as git prints it. */
export const isCommitSha = (s: string): boolean => /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(s);

/**
 * A URL with its user name and password masked, as BuildKit redacts remotes in messages; the plan,
 * keys, logs and history carry only this form. scp-like remotes (`git@host:...`) and an ssh user name
 * alone hold no secret.
 */
export function redactRemote(remote: string): string {
  return remote.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@]*)@/, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const hasPassword = colon >= 0;
    // An ssh user name is an account, not a secret (ssh authenticates with keys); an https one may be a token.
    if (scheme.toLowerCase() === 'ssh://' && !hasPassword) return `${scheme}${userinfo}@`;
    if (user !== '' && hasPassword) return `${scheme}xxxxx:xxxxx@`;
    if (user !== '') return `${scheme}xxxxx@`;
    return hasPassword ? `${scheme}:xxxxx@` : `${scheme}@`;
  });
}

/** Every `scheme://user:password@` in a line of text, masked: for instruction text shown in logs. */
export function redactUrlsIn(text: string): string {
  return text.replace(/[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s/?#@]*@/g, (m) => redactRemote(m));
}
