import { posix } from 'node:path';

/** A package a package manager's database in the image lists. */
export interface FoundPackage {
  ecosystem: 'deb' | 'apk' | 'npm' | 'pypi';
  name: string;
  version: string;
  /** The database file it was read from, relative to the root. */
  foundIn: string;
  arch?: string;
  license?: string;
  supplier?: string;
  homepage?: string;
  summary?: string;
}

/** The files whose content the scanner reads, and which reader each needs. */
export type DatabaseKind = 'dpkg' | 'apk' | 'npm-lock' | 'npm-package' | 'python';

export function databaseKind(path: string): DatabaseKind | undefined {
  if (path === 'var/lib/dpkg/status' || /^var\/lib\/dpkg\/status\.d\/[^/]+$/.test(path)) return 'dpkg';
  if (path === 'lib/apk/db/installed') return 'apk';
  if (posix.basename(path) === 'package-lock.json' && !path.includes('node_modules/')) return 'npm-lock';
  if (/(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path)) return 'npm-package';
  if (/\.dist-info\/METADATA$/.test(path) || /\.egg-info\/PKG-INFO$/.test(path)) return 'python';
  return undefined;
}

/** Debian control-file paragraphs: `Field: value`, continuation lines start with a space. */
function paragraphs(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of block.split('\n')) {
      if (/^[ \t]/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      else {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        last = line.slice(0, colon).trim().toLowerCase();
        fields.set(last, line.slice(colon + 1).trim());
      }
    }
    if (fields.size > 0) out.push(fields);
  }
  return out;
}

const opt = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> => (value ? ({ [key]: value } as Record<K, string>) : {});

function dpkg(text: string, foundIn: string): FoundPackage[] {
  // Only what is installed: dpkg keeps removed-but-configured packages in the file too. status.d files
  // (distroless) have no Status field.
  return paragraphs(text)
    .filter((p) => p.has('package') && p.has('version') && (!p.has('status') || / installed$/.test(p.get('status')!)))
    .map((p) => ({ ecosystem: 'deb', name: p.get('package')!, version: p.get('version')!, foundIn, ...opt('arch', p.get('architecture')), ...opt('supplier', p.get('maintainer')), ...opt('homepage', p.get('homepage')), ...opt('summary', p.get('description')?.split('\n')[0]) }));
}

function apk(text: string, foundIn: string): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split('\n')) if (line[1] === ':' && !f.has(line[0]!)) f.set(line[0]!, line.slice(2));
    if (f.has('P') && f.has('V')) out.push({ ecosystem: 'apk', name: f.get('P')!, version: f.get('V')!, foundIn, ...opt('arch', f.get('A')), ...opt('license', f.get('L')), ...opt('supplier', f.get('m')), ...opt('homepage', f.get('U')), ...opt('summary', f.get('T')) });
  }
  return out;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  license?: unknown;
  homepage?: unknown;
  description?: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function npmPackage(p: PackageJson, foundIn: string, fallbackName?: string): FoundPackage | undefined {
  const name = str(p.name) ?? fallbackName;
  const version = str(p.version);
  if (!name || !version) return undefined;
  return { ecosystem: 'npm', name, version, foundIn, ...opt('license', str(p.license)), ...opt('homepage', str(p.homepage)), ...opt('summary', str(p.description)) };
}

function npmLock(text: string, foundIn: string): FoundPackage[] {
  const lock = parseJson(text) as { packages?: Record<string, PackageJson>; dependencies?: Record<string, PackageJson & { dependencies?: Record<string, PackageJson> }> } | undefined;
  const out: FoundPackage[] = [];
  if (lock?.packages && typeof lock.packages === 'object') {
    // lockfileVersion 2 and 3: keyed by install path; "" is the project itself.
    for (const [key, p] of Object.entries(lock.packages)) {
      const at = key.lastIndexOf('node_modules/');
      if (at < 0 || typeof p !== 'object' || p === null) continue;
      const found = npmPackage(p, foundIn, key.slice(at + 'node_modules/'.length));
      if (found) out.push(found);
    }
  } else if (lock?.dependencies && typeof lock.dependencies === 'object') {
    // lockfileVersion 1: nested by name.
    const walk = (deps: Record<string, PackageJson & { dependencies?: Record<string, PackageJson> }>): void => {
      for (const [name, p] of Object.entries(deps)) {
        if (typeof p !== 'object' || p === null) continue;
        const found = npmPackage({ ...p, name }, foundIn);
        if (found) out.push(found);
        if (p.dependencies && typeof p.dependencies === 'object') walk(p.dependencies);
      }
    };
    walk(lock.dependencies);
  }
  return out;
}

/** Python core metadata (RFC 822 headers, then the description body). */
function python(text: string, foundIn: string): FoundPackage[] {
  const headers = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const colon = line.indexOf(':');
    if (colon > 0 && !/^\s/.test(line)) {
      const key = line.slice(0, colon).toLowerCase();
      if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim());
    }
  }
  const name = headers.get('name');
  const version = headers.get('version');
  if (!name || !version) return [];
  const license = headers.get('license-expression') ?? headers.get('license');
  return [{ ecosystem: 'pypi', name, version, foundIn, ...opt('license', license && license !== 'UNKNOWN' ? license : undefined), ...opt('supplier', headers.get('author')), ...opt('homepage', headers.get('home-page')), ...opt('summary', headers.get('summary')) }];
}

/** The packages one database file lists; a file that does not parse lists none. */
export function readDatabase(kind: DatabaseKind, text: string, foundIn: string): FoundPackage[] {
  switch (kind) {
    case 'dpkg':
      return dpkg(text, foundIn);
    case 'apk':
      return apk(text, foundIn);
    case 'npm-lock':
      return npmLock(text, foundIn);
    case 'npm-package': {
      const found = npmPackage((parseJson(text) ?? {}) as PackageJson, foundIn);
      return found ? [found] : [];
    }
    case 'python':
      return python(text, foundIn);
  }
}
