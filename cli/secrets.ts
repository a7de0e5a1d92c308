import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SecretSource } from '../worker/worker.js';

/** A `--secret` as buildx takes it: `id=NAME,src=FILE` or `id=NAME,env=VAR`. Only where the value lives, never the value. */
export interface SecretFlag {
  id: string;
  src?: string;
  env?: string;
}

export function parseSecretFlag(text: string, env: NodeJS.ProcessEnv = process.env): SecretFlag {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`invalid --secret ${JSON.stringify(text)}: expected id=NAME,src=FILE or id=NAME,env=VAR`);
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1);
    const canonical = key === 'source' ? 'src' : key;
    if (!['id', 'src', 'env', 'type'].includes(canonical)) throw new Error(`invalid --secret field ${key} (use id, src, env)`);
    fields.set(canonical, value);
  }
  const type = fields.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env') throw new Error(`invalid --secret type ${type} (use file or env)`);
  const id = fields.get('id');
  if (!id) throw new Error(`invalid --secret ${JSON.stringify(text)}: missing id=NAME`);
  let src = fields.get('src');
  let envName = fields.get('env');
  // As in buildx: with neither src nor env, type=env reads the variable named like the id, type=file the file.
  if (src === undefined && envName === undefined) {
    if (type === 'env') envName = id;
    else src = id;
  }
  if (type === 'env' && src !== undefined && envName === undefined) [envName, src] = [src, undefined];
  if (src !== undefined && !existsSync(src)) throw new Error(`--secret id=${id}: file ${src} does not exist`);
  if (envName !== undefined && env[envName] === undefined) throw new Error(`--secret id=${id}: environment variable ${envName} is not set`);
  return { id, ...(src !== undefined ? { src } : {}), ...(envName !== undefined ? { env: envName } : {}) };
}

/** Secret values from `--secret` flags, read only when a RUN mounts them. */
export class FlagSecrets implements SecretSource {
  private readonly byId: Map<string, SecretFlag>;

  constructor(sources: SecretFlag[], private readonly env: NodeJS.ProcessEnv = process.env) {
    this.byId = new Map(sources.map((s) => [s.id, s]));
  }

  async get(id: string): Promise<Buffer | undefined> {
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.src !== undefined) return readFile(s.src);
    const v = s.env !== undefined ? this.env[s.env] : undefined;
    return v === undefined ? undefined : Buffer.from(v);
  }
}

