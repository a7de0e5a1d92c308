import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * runc creates the mount points it needs (/proc, /etc/hosts, a cache mount's target...) in the root
 * filesystem. Those would end up in the layer; like BuildKit, remove the ones that did not exist
 * before the step and are still empty.
 */
export async function missingPrefix(root: string, target: string): Promise<string | undefined> {
  const parts = target.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    if (!(await lstat(join(root, rel)).catch(() => undefined))) return rel;
  }
  return undefined;
}

async function isHollow(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return true;
  if (st.isFile()) return st.size === 0;
  if (!st.isDirectory()) return false;
  for (const name of await readdir(path)) if (!(await isHollow(join(path, name)))) return false;
  return true;
}

export async function removeCreatedMountPoints(upper: string, created: Iterable<string>): Promise<void> {
  for (const rel of created) {
    const path = join(upper, rel);
    if (await isHollow(path)) await rm(path, { recursive: true, force: true });
  }
}
