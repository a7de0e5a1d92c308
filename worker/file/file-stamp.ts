import type { Stats } from 'node:fs';

/**
 * What must be unchanged for a file's content to be taken as unchanged, as BuildKit's contenthash keys
 * it: size, mtime, ctime and inode. Any write moves ctime, which nothing but the kernel can set.
 */
export const statStamp = (st: Stats): string => `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;

/**
 * A file changed this recently could change again within the same timestamp tick without its stamp
 * changing (git's "racy" case): what is learnt about it is used once but not remembered.
 */
export const SETTLED_MS = 2000;

/**
 * Whether a file whose ctime is `ctimeMs` changed too recently to trust its stamp (a write within the
 * same timestamp tick would not change it). A `settledMs` of 0 trusts every file: Date.now() is whole
 * milliseconds, so a ctime just set can be a fraction of one ahead of it.
 */
export function changedWithin(ctimeMs: number, settledMs: number): boolean {
  return settledMs > 0 && Date.now() - ctimeMs < settledMs;
}
