import { chmodSync, lchownSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `path` (absolute, already resolved inside the root filesystem) and its missing parents,
 * each with exactly `mode` whatever the process umask, owned by `owner` when given (root otherwise).
 * Returns the directories it created, outermost first. Synchronous calls: a few microseconds each,
 * where thread-pool round trips cost more and wait behind whatever else the process is doing.
 */
export async function makeDirs(path: string, mode: number, owner?: { uid: number; gid: number }): Promise<string[]> {
  const target = resolve(path);
  const first = mkdirSync(target, { recursive: true, mode });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let p = target; p.length >= first.length; p = dirname(p)) created.unshift(p);
  for (const p of created) {
    chmodSync(p, mode);
    if (owner && (owner.uid !== 0 || owner.gid !== 0)) lchownSync(p, owner.uid, owner.gid);
  }
  return created;
}
