import { ExpectedError } from '../../oci/expected-error.js';

/** `--output` as buildx parses it: CSV `type=...,dest=...`, or a bare path (local), or `-` (tar to stdout). */
export type OutputSpec =
  | { type: 'oci'; dest: string; tar: boolean }
  | { type: 'docker'; dest: string }
  | { type: 'local'; dest: string }
  | { type: 'tar'; dest: string }
  | { type: 'image'; push: boolean; names: string[]; pushByDigest: boolean };

export class OutputSpecError extends ExpectedError {}

export function parseOutput(text: string): OutputSpec {
  if (!text.includes('=')) return text === '-' ? { type: 'tar', dest: '-' } : { type: 'local', dest: text };
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new OutputSpecError(`invalid --output ${JSON.stringify(text)}: ${JSON.stringify(part)} is not KEY=VALUE`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'local';
  const dest = fields.get('dest');
  const bool = (key: string, dflt: boolean): boolean => {
    const v = fields.get(key);
    if (v === undefined) return dflt;
    if (v === 'true' || v === 'false') return v === 'true';
    throw new OutputSpecError(`invalid --output ${key}=${v}: use true or false`);
  };
  const needDest = (): string => {
    if (!dest) throw new OutputSpecError(`--output type=${type} needs dest=PATH`);
    return dest;
  };
  switch (type) {
    case 'oci':
      return { type, dest: needDest(), tar: bool('tar', true) };
    case 'docker':
      return { type, dest: needDest() };
    case 'local':
    case 'tar':
      return { type, dest: needDest() };
    case 'image':
    case 'registry':
      return { type: 'image', push: type === 'registry' || bool('push', false), names: (fields.get('name') ?? '').split(',').filter(Boolean), pushByDigest: bool('push-by-digest', false) };
    default:
      throw new OutputSpecError(`unsupported --output type=${type} (use oci, docker, local, tar, image or registry)`);
  }
}

/** The names a build pushed to: its push outputs' names, or its tags. */
export function pushedNames(outputs: readonly OutputSpec[], tags: readonly string[]): string[] {
  return outputs.flatMap((x) => (x.type === 'image' && x.push ? (x.names.length > 0 ? x.names : tags) : []));
}
