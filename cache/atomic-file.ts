import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Replaces `path` with `data` through a temporary file in `tmpDir` (same filesystem) and a rename, so
 * that a reader, a concurrent writer or a kill -9 leaves the old file or the new one, never half of
 * one. The temporary file is named `<kind>-<pid>-<random>`, which the next build's clean-up removes if
 * this process dies before the rename. Returns false when the write failed (nothing is left behind).
 */
export function writeFileAtomic(path: string, data: string, tmpDir: string, kind: string): boolean {
  const tmp = join(tmpDir, `${kind}-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(tmpDir, { recursive: true });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
