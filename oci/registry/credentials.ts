import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { childProcess } from '../lazy-modules.js';

/** What Docker's config.json holds for one registry. Never logged. */
export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`), used with the token endpoint's POST flow. */
  identityToken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

function readConfig(env: NodeJS.ProcessEnv): DockerConfig {
  const path = dockerConfigPath(env);
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DockerConfig;
  } catch {
    throw new Error(`${path} is not valid JSON: fix or remove it`);
  }
}

/** The keys docker uses for a host in `auths`: Docker Hub is stored under its v1 index URL. */
function authKeys(host: string): string[] {
  if (host === 'docker.io' || host === 'registry-1.docker.io' || host === 'index.docker.io') return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

/** Asks `docker-credential-<helper>` for a host's credentials. */
function fromHelper(helper: string, host: string): Credentials | undefined {
  const r = childProcess().spawnSync(`docker-credential-${helper}`, ['get'], { input: host, encoding: 'utf8' });
  if (r.error) throw new Error(`credential helper docker-credential-${helper} is not installed (named in ${dockerConfigPath()})`);
  if (r.status !== 0) return undefined; // "credentials not found"
  const out = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  if (out.Username === '<token>') return { identityToken: out.Secret ?? '' };
  return { username: out.Username ?? '', password: out.Secret ?? '' };
}

/** Credentials for `host` from Docker's config.json: a per-host helper, `auths`, or the default store, as docker looks them up. */
export function credentialsFor(host: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const config = readConfig(env);
  const keys = authKeys(host);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean);
  if (helper) return fromHelper(helper, keys[0]!);
  for (const k of keys) {
    const a = config.auths?.[k];
    if (!a) continue;
    if (a.identitytoken) return { identityToken: a.identitytoken };
    if (a.auth) {
      const decoded = Buffer.from(a.auth, 'base64').toString();
      const colon = decoded.indexOf(':');
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (a.username !== undefined) return { username: a.username, password: a.password ?? '' };
  }
  if (config.credsStore) return fromHelper(config.credsStore, keys[0]!);
  return undefined;
}

/** Stores credentials the way `docker login` does (in `auths`, base64 `user:password`). */
export function saveCredentials(host: string, username: string, password: string, env: NodeJS.ProcessEnv = process.env): void {
  const path = dockerConfigPath(env);
  const config = readConfig(env);
  config.auths ??= {};
  config.auths[authKeys(host)[0]!] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path + '.tmp', JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
  renameSync(path + '.tmp', path);
}

export function removeCredentials(host: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = dockerConfigPath(env);
  const config = readConfig(env);
  let removed = false;
  for (const k of authKeys(host)) if (config.auths?.[k]) (delete config.auths[k], (removed = true));
  if (removed) {
    writeFileSync(path + '.tmp', JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
    renameSync(path + '.tmp', path);
  }
  return removed;
}
