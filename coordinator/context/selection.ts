import picomatch from 'picomatch';
import { sha256, type Digest } from '../../oci/digest.js';
import { BuildContext, cleanContextPath, ContextError, type ContextEntry } from './build-context.js';
import { IgnoreRules } from '../../worker/file/ignore-rules.js';

/** The files one COPY/ADD source selects from the context, and a checksum over exactly those. */
export interface Selection {
  source: string;
  /** Context-relative roots that matched (a wildcard may match several). */
  roots: string[];
  /** Paths of every selected entry, roots and their subtrees. */
  paths: string[];
  /** Digest over path, type, mode, uid, gid, size, link target and content of each selected entry. */
  checksum: Digest;
}

const hasWildcard = (s: string): boolean => /[*?[]/.test(s);

/** Selects what `COPY <source>` takes from the context, minus `--exclude` patterns. */
export function selectFromContext(ctx: BuildContext, source: string, excludes: string[] = []): Selection {
  const entries = ctx.entries();
  const cleaned = cleanContextPath(source);
  let roots: string[];
  if (hasWildcard(cleaned)) {
    const match = picomatch(cleaned, { dot: true, noextglob: true, nobrace: true });
    roots = [...entries.keys()].filter((p) => match(p));
    // A wildcard that matches nothing is allowed, as in BuildKit; the step then copies nothing.
  } else {
    const resolved = cleaned === '' ? '' : ctx.resolveInside(cleaned);
    if (resolved !== '' && !entries.has(resolved)) {
      const ignored = ctx.ignore.ignores(cleaned);
      throw new ContextError(
        ignored
          ? `${source}: excluded by ${ctx.ignoreFile ?? '.dockerignore'}`
          : `${source}: not found in build context ${ctx.root}`,
      );
    }
    roots = [resolved];
  }
  const excluded = excludes.length > 0 ? new IgnoreRules(excludes) : undefined;
  const selected = new Map<string, ContextEntry>();
  for (const root of roots) {
    for (const path of ctx.subtree(root)) {
      if (excluded) {
        // --exclude patterns are matched relative to the source, or against a file source's own name.
        const rel = root === '' ? path : path === root ? path.slice(path.lastIndexOf('/') + 1) : path.slice(root.length + 1);
        if (excluded.ignores(rel)) continue;
      }
      selected.set(path, entries.get(path)!);
    }
  }
  // One root's subtree comes in byte order already; several (a wildcard) can interleave.
  const ordered = roots.length === 1 ? [...selected.values()] : [...selected.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const lines = ordered.map(
    (e) => `${e.path}\0${e.type}\0${e.mode.toString(8)}\0${e.uid}\0${e.gid}\0${e.size}\0${e.linkTarget ?? ''}\0${e.type === 'file' ? ctx.fileDigest(e.path) : ''}`,
  );
  return { source, roots, paths: ordered.map((e) => e.path), checksum: sha256(lines.join('\n')) };
}

/** `selectFromContext`'s checksum, remembered across builds while the context is unchanged (`BuildContext.rememberedChecksum`). */
export function selectionChecksum(ctx: BuildContext, source: string, excludes: string[] = []): Digest {
  return ctx.rememberedChecksum(JSON.stringify([source, excludes]), () => selectFromContext(ctx, source, excludes).checksum);
}

export { ContextError };

/** Per-file summaries of what `include` selects, for telling which file changed between two builds. */
export function contextFileMap(ctx: BuildContext, include: string[], exclude: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  const entries = ctx.entries();
  for (const src of include.length === 0 ? ['.'] : include) {
    for (const path of selectFromContext(ctx, src, exclude).paths) {
      const e = entries.get(path)!;
      map[path] = [e.type, e.mode.toString(8), e.uid, e.gid, e.size, e.linkTarget ?? '', e.type === 'file' ? ctx.fileDigest(path) : ''].join(':');
    }
  }
  return map;
}
