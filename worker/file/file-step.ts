import { chmod, chown, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Layer } from '../layer.js';
import type { MountedRootfs, SnapshotStore } from '../snapshots/snapshot-store.js';
import type { FileDefinition } from '../step.js';
import type { StepInput } from '../worker.js';
import { pathInRoot, resolveUser } from '../rootfs/user.js';
import { IgnoreRules } from './ignore-rules.js';
import { copyInto, type CopySourceRoot, type LinkSession } from './copy.js';
import type { CopiedFile, CopyLinks } from './copy-links.js';
import { applyChmod, createdDirMode, parseChmod } from './file-mode.js';
import { makeDirs } from '../rootfs/make-dirs.js';
import { trace } from '../../oci/trace.js';

/** Runs a COPY/ADD or WORKDIR step on an overlay of its destination filesystem; the upper directory is the diff. */
export async function runFile(file: FileDefinition, inputs: StepInput[], snapshots: SnapshotStore, links?: CopyLinks): Promise<{ root: MountedRootfs; parent: Layer[]; copied: Map<string, CopiedFile[]> }> {
  const destInput = file.dest === null ? undefined : inputs[file.dest];
  if (destInput && destInput.type !== 'rootfs') throw new Error('a file step needs a root filesystem as its destination');
  const parent = destInput?.layers ?? [];
  const root = await snapshots.mount(parent, true);
  trace('file: mounted');
  const releases: (() => Promise<void>)[] = [];
  const session: LinkSession | undefined = links && root.linkRoot ? { index: links, linkRoot: root.linkRoot, usedInodes: new Set(), copied: new Map() } : undefined;
  try {
    if (file.action === 'mkdir') {
      // WORKDIR creates its directories owned by the current USER, as BuildKit does.
      await makeDirs(pathInRoot(root.path, file.path), file.mode, file.user !== '' ? resolveUser(root.path, file.user) : undefined);
    } else {
      const owner = file.chown !== undefined ? resolveUser(root.path, file.chown) : undefined;
      const chmodSpec = file.chmod !== undefined ? parseChmod(file.chmod) : undefined;
      const exclude = new IgnoreRules(file.exclude);
      const opts = { ...(owner ? { owner } : {}), ...(chmodSpec ? { chmod: chmodSpec } : {}), ...(session ? { links: session } : {}), exclude: (rel: string) => exclude.ignores(rel), parents: file.parents, unpack: file.unpack };
      const many = file.sources.reduce((n, s) => n + s.paths.length, 0) + file.inline.length > 1;
      for (const source of file.sources) {
        const input: StepInput = source.input === null ? { type: 'rootfs', layers: [] } : inputs[source.input]!;
        let src: CopySourceRoot;
        if (input.type === 'local') src = { dir: input.dir, allowed: input.allowed };
        else {
          const mounted = await snapshots.mount(input.layers, false);
          releases.push(() => mounted.release());
          src = { dir: mounted.path };
        }
        await copyInto(root.path, src, source.paths, file.destPath, many, opts);
      }
      for (const doc of file.inline) {
        const dest = file.destPath.endsWith('/') || many ? posix.join(file.destPath, doc.name) : file.destPath;
        const abs = pathInRoot(root.path, dest);
        await makeDirs(posix.dirname(abs), createdDirMode(chmodSpec), owner);
        await writeFile(abs, doc.content);
        if (owner) await chown(abs, owner.uid, owner.gid);
        await chmod(abs, chmodSpec ? applyChmod(chmodSpec, 0o644, false) : 0o644);
      }
    }
  } catch (err) {
    await root.release();
    throw err;
  } finally {
    for (const r of releases) await r();
  }
  trace('file: copied');
  await root.detach();
  trace('file: detached');
  return { root, parent, copied: session?.copied ?? new Map() };
}
