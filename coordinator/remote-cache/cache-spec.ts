import { parse as parseCsv } from 'csv-parse/sync';
import { ExpectedError } from '../../oci/expected-error.js';
import { parseReference } from '../../oci/reference.js';

/** Where `--cache-from` reads records and layers: a registry reference (a cache artifact or an image with inline records), or an OCI layout. */
export type CacheImport = { type: 'registry'; ref: string } | { type: 'local'; src: string };

/** `min`: the records of the final images' steps only; `max`: every step of every stage. */
export type CacheMode = 'min' | 'max';

/** Where `--cache-to` writes: a registry artifact, an OCI layout directory, or the pushed image's own config. */
export type CacheExport =
  | { type: 'registry'; ref: string; mode: CacheMode; ignoreError: boolean }
  | { type: 'local'; dest: string; mode: CacheMode; ignoreError: boolean }
  | { type: 'inline' };

export class CacheSpecError extends ExpectedError {}

/** `key=value` fields of one flag value, CSV-quoted as buildx reads them. */
function fields(flag: string, text: string): Map<string, string> {
  let rows: string[][];
  try {
    rows = parseCsv(text, { relax_column_count: true, trim: true }) as string[][];
  } catch (err) {
    throw new CacheSpecError(`invalid ${flag} ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
  const out = new Map<string, string>();
  for (const part of rows.flat()) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CacheSpecError(`invalid ${flag} ${JSON.stringify(text)}: ${JSON.stringify(part)} is not KEY=VALUE`);
    out.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  return out;
}

/** Attributes buildx accepts that change nothing here: Dockyard always writes OCI media types and image manifests. */
const HARMLESS: Record<string, string[]> = { 'oci-mediatypes': ['true'], 'image-manifest': ['true', 'false'] };

function checkKeys(flag: string, f: Map<string, string>, allowed: string[]): void {
  for (const [key, value] of f) {
    if (allowed.includes(key)) continue;
    const ok = HARMLESS[key];
    if (ok?.includes(value)) continue;
    throw new CacheSpecError(`${flag} type=${f.get('type')}: ${key}=${value} is not supported${ok ? ` (only ${key}=${ok.join('|')})` : ''}`);
  }
}

function checkRef(flag: string, ref: string | undefined, needTag: boolean): string {
  if (!ref) throw new CacheSpecError(`${flag} type=registry needs ref=REGISTRY/REPOSITORY:TAG`);
  let parsed;
  try {
    parsed = parseReference(ref);
  } catch (err) {
    throw new CacheSpecError(`${flag}: ${(err as Error).message}`);
  }
  if (needTag && parsed.digest) throw new CacheSpecError(`${flag} ref=${ref}: a cache is written under a tag, not a digest`);
  return ref;
}

function mode(flag: string, f: Map<string, string>): CacheMode {
  const m = f.get('mode') ?? 'min';
  if (m !== 'min' && m !== 'max') throw new CacheSpecError(`invalid ${flag} mode=${m}: use min or max`);
  return m;
}

function bool(flag: string, f: Map<string, string>, key: string): boolean {
  const v = f.get(key) ?? 'false';
  if (v !== 'true' && v !== 'false') throw new CacheSpecError(`invalid ${flag} ${key}=${v}: use true or false`);
  return v === 'true';
}

/** One `--cache-from` value, as buildx reads it: `type=registry,ref=REF`, `type=local,src=DIR`, or a bare reference. */
export function parseCacheFrom(text: string): CacheImport {
  const flag = '--cache-from';
  if (!text.includes('=')) return { type: 'registry', ref: checkRef(flag, text, false) };
  const f = fields(flag, text);
  const type = f.get('type') ?? 'registry';
  switch (type) {
    case 'registry':
      checkKeys(flag, f, ['type', 'ref']);
      return { type, ref: checkRef(flag, f.get('ref'), false) };
    case 'local': {
      checkKeys(flag, f, ['type', 'src']);
      const src = f.get('src');
      if (!src) throw new CacheSpecError(`${flag} type=local needs src=DIR`);
      return { type, src };
    }
    case 'inline':
      throw new CacheSpecError(`${flag} type=inline does not exist: import an image's inline cache with ${flag} type=registry,ref=IMAGE`);
    default:
      throw new CacheSpecError(`unsupported ${flag} type=${type} (use registry or local)`);
  }
}

/** One `--cache-to` value: `type=registry,ref=REF[,mode=min|max]`, `type=local,dest=DIR[,mode=...]` or `type=inline`. */
export function parseCacheTo(text: string): CacheExport {
  const flag = '--cache-to';
  if (!text.includes('=')) return { type: 'registry', ref: checkRef(flag, text, true), mode: 'min', ignoreError: false };
  const f = fields(flag, text);
  const type = f.get('type') ?? 'registry';
  switch (type) {
    case 'registry':
      checkKeys(flag, f, ['type', 'ref', 'mode', 'ignore-error']);
      return { type, ref: checkRef(flag, f.get('ref'), true), mode: mode(flag, f), ignoreError: bool(flag, f, 'ignore-error') };
    case 'local': {
      checkKeys(flag, f, ['type', 'dest', 'mode', 'ignore-error']);
      const dest = f.get('dest');
      if (!dest) throw new CacheSpecError(`${flag} type=local needs dest=DIR`);
      return { type, dest, mode: mode(flag, f), ignoreError: bool(flag, f, 'ignore-error') };
    }
    case 'inline':
      checkKeys(flag, f, ['type', 'mode']);
      // The image carries only its own layers, so only the records of its own steps fit in it.
      if (mode(flag, f) === 'max') throw new CacheSpecError(`${flag} type=inline supports mode=min only: use type=registry,mode=max for every stage`);
      return { type };
    default:
      throw new CacheSpecError(`unsupported ${flag} type=${type} (use registry, local or inline)`);
  }
}
