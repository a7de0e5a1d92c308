import { lstatSync } from 'node:fs';
import { lstat, readdir, rmdir, unlink, utimes } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { isOpaque } from '../system/xattr.js';
import { pathInRoot } from '../rootfs/user.js';

/**
 * runc creates what it mounts over when it is missing: /etc/hosts, /etc/resolv.conf, each mount's
 * target, and their missing parents. As BuildKit's executor does (executor/stubs.go), those stubs
 * are removed after the step when they are still empty; /dev, /proc and /sys stay, as 0755 directories.
 */
export interface MountStubs {
  /** Paths (relative to the root) that did not exist before the step: each target, then its missing parents. */
  missing: string[];
  /** The existing directories above them, with the owner and mode they had before the step. */
  parents: Map<string, { mode: number; uid: number; gid: number }>;
}

const parentOf = (rel: string): string => (rel.includes('/') ? posix.dirname(rel) : '');

/** Notes, before the step runs, which of `targets` (absolute paths in the container) runc will have to create. */
export async function findMountStubs(root: string, targets: string[]): Promise<MountStubs> {
  const stubs: MountStubs = { missing: [], parents: new Map() };
  for (const target of targets) {
    // Symlinks resolve inside the root, as runc resolves them; a target that does not resolve has no stub.
    let resolved: string;
    try {
      resolved = pathInRoot(root, target);
    } catch {
      continue;
    }
    let rel = relative(root, resolved);
    for (; rel !== ''; rel = parentOf(rel)) {
      // Synchronous: a few lstats at a RUN's start, which must not wait behind a layer's tar.
      if (lstatSync(join(root, rel), { throwIfNoEntry: false })) break;
      stubs.missing.push(rel);
    }
    for (; rel !== ''; rel = parentOf(rel)) {
      if (stubs.parents.has(rel)) break;
      const st = lstatSync(join(root, rel));
      stubs.parents.set(rel, { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }
  return stubs;
}

/** The entry at `rel` in `dir`, unless reaching it goes through a symlink the step made. */
async function entryAt(dir: string, rel: string): Promise<{ path: string; isDir: boolean; empty: boolean; mode: number; uid: number; gid: number } | undefined> {
  const path = join(dir, rel);
  if (pathInRoot(dir, rel) !== path) return undefined;
  const st = await lstat(path).catch(() => undefined);
  if (!st) return undefined;
  const empty = st.isDirectory() ? (await readdir(path)).length === 0 : st.size === 0;
  return { path, isDir: st.isDirectory(), empty, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/**
 * Removes from the step's diff (`upper`) the stubs that are still empty, keeping their parents' times.
 * Existing directories that were copied up only to hold a stub are dropped too when they are left empty
 * and unchanged: BuildKit's differ leaves unchanged directories out of the layer.
 */
export async function removeMountStubs(upper: string, stubs: MountStubs): Promise<void> {
  for (const rel of stubs.missing) {
    const e = await entryAt(upper, rel);
    if (!e?.empty) continue;
    const parent = join(upper, parentOf(rel));
    const times = await lstat(parent);
    await (e.isDir ? rmdir(e.path) : unlink(e.path));
    await utimes(parent, times.atime, times.mtime);
  }
  const deepestFirst = [...stubs.parents].sort(([a], [b]) => b.split('/').length - a.split('/').length);
  for (const [rel, before] of deepestFirst) {
    const e = await entryAt(upper, rel);
    if (!e?.isDir || !e.empty || e.mode !== before.mode || e.uid !== before.uid || e.gid !== before.gid) continue;
    // An opaque directory hides what is below it: removing it would bring the lower contents back.
    if (await isOpaque(e.path)) continue;
    await rmdir(e.path);
  }
}
