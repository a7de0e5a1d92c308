import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where the embedded cache lives: `--cache-dir`, else `$DOCKYARD_CACHE_DIR`, else the user's cache directory. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKYARD_CACHE_DIR) return resolve(env.DOCKYARD_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'dockyard');
}
