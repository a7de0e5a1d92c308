import { lstat, mkdir, readdir, readlink, rm, copyFile, symlink, chmod, lchown, lutimes, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../system/command.js';
import { findOpaqueDirs } from '../system/xattr.js';
import { mknod } from '../system/mknod.js';

/**
 * The fallback where overlayfs cannot mount: a root filesystem is a plain copy of its layer chain,
 * and a step's diff is found by comparing the tree before and after it. Slower, but it needs nothing
 * from the kernel beyond a filesystem.
 */

interface EntryInfo {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  ino: number;
  link?: string;
}

type Manifest = Map<string, EntryInfo>;

const isWhiteout = (st: { isCharacterDevice(): boolean; rdev: number }): boolean => st.isCharacterDevice() && st.rdev === 0;

/** Lays `layerDir` (overlay format: whiteout devices, opaque directories) over `target`. */
export async function applyLayerDir(layerDir: string, target: string): Promise<void> {
  for (const dir of await findOpaqueDirs(layerDir)) await rm(join(target, dir), { recursive: true, force: true });
  const whiteouts: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(layerDir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(layerDir, r));
      if (isWhiteout(st)) whiteouts.push(r);
      else if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  for (const w of whiteouts) await rm(join(target, w), { recursive: true, force: true });
  await runCommand('cp', ['-a', '--reflink=auto', `${layerDir}/.`, `${target}/`]);
  // cp copied the whiteout devices themselves; they only meant "deleted".
  for (const w of whiteouts) await rm(join(target, w), { force: true });
}

/** Type, owner, mode, size, mtime and inode of every entry: enough to see what a step changed. */
export async function manifestOf(root: string): Promise<Manifest> {
  const m: Manifest = new Map();
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, r), { bigint: true });
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      m.set(r, { type, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), mtimeNs: st.mtimeNs, ino: Number(st.ino), ...(type === 'symlink' ? { link: await readlink(join(root, r)) } : {}) });
      if (type === 'dir') await walk(r);
    }
  };
  await walk('');
  return m;
}

const same = (a: EntryInfo, b: EntryInfo): boolean =>
  a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino && a.link === b.link;

/** Copies one entry of `root` into `upper`, keeping owner, mode and times. */
async function copyOut(root: string, upper: string, rel: string, info: EntryInfo): Promise<void> {
  const src = join(root, rel);
  const dst = join(upper, rel);
  const st = await lstat(src);
  if (info.type === 'dir') await mkdir(dst, { recursive: true });
  else if (info.type === 'file') await copyFile(src, dst);
  else if (info.type === 'symlink') await symlink(info.link!, dst);
  else if (st.isCharacterDevice() || st.isBlockDevice()) await mknod(dst, st.isCharacterDevice() ? 'c' : 'b', Math.floor(st.rdev / 256), st.rdev % 256, st.mode);
  else return;
  await lchown(dst, st.uid, st.gid);
  if (info.type === 'symlink') return lutimes(dst, st.atime, st.mtime);
  await chmod(dst, st.mode & 0o7777);
  await utimes(dst, st.atime, st.mtime);
}

/**
 * Writes into `upper`, in overlay format, what changed in `root` since `before`: new and changed
 * entries (with their parent directories), and a whiteout device for each deleted path.
 */
export async function diffInto(root: string, before: Manifest, upper: string): Promise<void> {
  const after = await manifestOf(root);
  const parentsDone = new Set<string>(['']);
  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (parentsDone.has(dir)) continue;
      await copyOut(root, upper, dir, after.get(dir)!);
      parentsDone.add(dir);
    }
  };
  const changedDirs: [string, EntryInfo][] = [];
  for (const [rel, info] of after) {
    const old = before.get(rel);
    if (old && same(old, info)) continue;
    await ensureParents(rel);
    if (info.type === 'dir') {
      if (!parentsDone.has(rel)) await copyOut(root, upper, rel, info);
      parentsDone.add(rel);
      changedDirs.push([rel, info]);
    } else await copyOut(root, upper, rel, info);
  }
  for (const rel of before.keys()) {
    if (after.has(rel)) continue;
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    // Only the topmost deleted path needs a whiteout; below a directory replaced by a file, none.
    if (parent !== '' && after.get(parent)?.type !== 'dir') continue;
    await ensureParents(rel);
    await mknod(join(upper, rel), 'c', 0, 0, 0);
  }
  // Writing children changed the copied directories' times back.
  for (const [rel] of changedDirs.reverse()) {
    const st = await lstat(join(root, rel));
    await utimes(join(upper, rel), st.atime, st.mtime);
  }
}
