import { posix } from 'node:path';
import { parseSize } from '../../cache/gc.js';

/** `RUN --mount=...` options as written, before their sources are resolved to graph inputs. */
export type MountSpec =
  | { type: 'bind'; target: string; from?: string; source: string; readonly: boolean }
  | { type: 'cache'; target: string; id: string; from?: string; source?: string; sharing: 'shared' | 'private' | 'locked'; readonly: boolean; mode: number; uid: number; gid: number }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; id: string; target?: string; env?: string; required: boolean; mode: number; uid: number; gid: number }
  | { type: 'ssh'; id: string; target: string; required: boolean; mode: number; uid: number; gid: number };

const allowedKeys: Record<MountSpec['type'], string[]> = {
  bind: ['target', 'source', 'from', 'readonly', 'rw'],
  cache: ['target', 'source', 'from', 'readonly', 'rw', 'id', 'sharing', 'mode', 'uid', 'gid'],
  tmpfs: ['target', 'size'],
  secret: ['target', 'id', 'required', 'mode', 'uid', 'gid', 'env'],
  ssh: ['target', 'id', 'required', 'mode', 'uid', 'gid'],
};

const aliases: Record<string, string> = { dst: 'target', destination: 'target', src: 'source', ro: 'readonly', readwrite: 'rw' };

/** Splits a CSV field list, honouring double quotes as Go's csv reader does. */
function csvFields(text: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') {
      fields.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw new Error(`unterminated quote in --mount=${text}`);
  fields.push(cur);
  return fields;
}

function parseBool(key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new Error(`invalid value for ${key}: ${value} (use true or false)`);
}

function parseNumber(key: string, value: string, radix: 8 | 10): number {
  const ok = radix === 8 ? /^0?[0-7]+$/.test(value) : /^\d+$/.test(value);
  if (!ok) throw new Error(`invalid value for ${key}: ${value}`);
  return parseInt(value, radix);
}

/** Go's `path.Clean`: like normalize, but without a trailing slash and `.` for nothing. */
function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * Parses one `--mount` value (already expanded). Relative targets are taken from the working
 * directory, as BuildKit does; bind, cache and tmpfs mounts without a target mount at it.
 */
export function parseMount(text: string, workdir: string): MountSpec {
  const opts = new Map<string, string | undefined>();
  for (const field of csvFields(text)) {
    const eq = field.indexOf('=');
    const rawKey = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const key = aliases[rawKey] ?? rawKey;
    if (key === '') throw new Error(`empty field in --mount=${text}`);
    opts.set(key, eq < 0 ? undefined : field.slice(eq + 1));
  }
  const type = (opts.get('type') ?? 'bind') as MountSpec['type'];
  opts.delete('type');
  const allowed = allowedKeys[type];
  if (!allowed) throw new Error(`unsupported mount type ${JSON.stringify(type)} (use bind, cache, tmpfs, secret or ssh)`);
  for (const key of opts.keys()) {
    if (!allowed.includes(key)) throw new Error(`unexpected key '${key}' for --mount type=${type} (allowed: ${allowed.join(', ')})`);
  }
  const str = (key: string): string | undefined => {
    const v = opts.get(key);
    if (opts.has(key) && (v === undefined || v === '') && key !== 'readonly' && key !== 'rw' && key !== 'required') {
      throw new Error(`--mount option ${key} needs a value`);
    }
    return v;
  };
  const written = str('target');
  const inWorkdir = (t: string): string => (t.startsWith('/') ? posix.normalize(t) : posix.join('/', workdir, t));
  const target = written === undefined ? undefined : inWorkdir(written);
  // Secrets and ssh have targets of their own; the others default to the working directory.
  const mountTarget = (): string => {
    const t = inWorkdir(written ?? '');
    if (cleanPath(t) === '/') throw new Error(`invalid mount target "/" for --mount type=${type}`);
    return t;
  };
  const readonly = opts.has('rw') ? !parseBool('rw', opts.get('rw')) : opts.has('readonly') ? parseBool('readonly', opts.get('readonly')) : undefined;
  const mode = (def: number): number => (opts.has('mode') ? parseNumber('mode', str('mode')!, 8) : def);
  const id = (n: string): number => (opts.has(n) ? parseNumber(n, str(n)!, 10) : 0);

  switch (type) {
    case 'bind':
      const from = str('from');
      return { type, target: mountTarget(), ...(from !== undefined ? { from } : {}), source: str('source') ?? '/', readonly: readonly ?? true };
    case 'cache': {
      const sharing = (str('sharing') ?? 'shared') as 'shared' | 'private' | 'locked';
      if (!['shared', 'private', 'locked'].includes(sharing)) throw new Error(`unsupported sharing value ${JSON.stringify(sharing)} (use shared, private or locked)`);
      const t = mountTarget();
      const from = str('from');
      const source = str('source');
      // The default id is the target as written, not joined with the working directory.
      return { type, target: t, id: str('id') ?? cleanPath(written ?? ''), ...(from !== undefined ? { from } : {}), ...(source !== undefined ? { source } : {}), sharing, readonly: readonly ?? false, mode: mode(0o755), uid: id('uid'), gid: id('gid') };
    }
    case 'tmpfs': {
      const size = str('size');
      let bytes: number | undefined;
      try {
        bytes = size === undefined ? undefined : parseSize(size);
      } catch {
        throw new Error(`invalid size for tmpfs: ${size}`);
      }
      return { type, target: mountTarget(), ...(bytes !== undefined ? { size: bytes } : {}) };
    }
    case 'secret': {
      const env = str('env');
      const secretId = str('id') ?? (target ? posix.basename(target) : undefined);
      if (!secretId) throw new Error('--mount type=secret needs an id, e.g. id=mysecret');
      const required = opts.has('required') ? parseBool('required', opts.get('required')) : false;
      // With env= alone the secret is only an environment variable; otherwise it is a file.
      const fileTarget = target ?? (env === undefined ? `/run/secrets/${secretId}` : undefined);
      return { type, id: secretId, ...(fileTarget !== undefined ? { target: fileTarget } : {}), ...(env !== undefined ? { env } : {}), required, mode: mode(0o400), uid: id('uid'), gid: id('gid') };
    }
    case 'ssh': {
      const required = opts.has('required') ? parseBool('required', opts.get('required')) : false;
      return { type, id: str('id') ?? 'default', target: target ?? '/run/buildkit/ssh_agent.0', required, mode: mode(0o600), uid: id('uid'), gid: id('gid') };
    }
  }
}
