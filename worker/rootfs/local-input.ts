import { chmod, copyFile, link, lstat, mkdir, mkdtemp, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepInput } from '../worker.js';

type LocalInput = Extract<StepInput, { type: 'local' }>;

/**
 * A directory holding only the allowed files of a local input, for a RUN bind mount: the container
 * must not see what `.dockerignore` excludes. Read-only mounts share inodes (hard links); writable
 * ones get copies so that the context is never changed.
 */
export async function materializeLocal(input: LocalInput, tmpDir: string, readonly: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpDir, 'local-'));
  for (const rel of [...input.allowed].sort()) {
    const src = join(input.dir, rel);
    const dst = join(dir, rel);
    const st = await lstat(src);
    if (st.isDirectory()) {
      await mkdir(dst, { recursive: true });
      await chmod(dst, st.mode & 0o7777);
    }
    else if (st.isSymbolicLink()) await symlink(await readlink(src), dst);
    else if (st.isFile()) {
      if (readonly) await link(src, dst).catch(() => copyFile(src, dst));
      else await copyFile(src, dst);
    }
  }
  return dir;
}
