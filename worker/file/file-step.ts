import { chown, mkdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Layer } from '../layer.js';
import type { MountedRootfs, SnapshotStore } from '../snapshots/snapshot-store.js';
import type { FileDefinition } from '../step.js';
import type { StepInput } from '../worker.js';
import { pathInRoot, resolveUser } from '../exec/user.js';
import { IgnoreRules } from './ignore-rules.js';
import { copyInto, type CopySourceRoot } from './copy.js';

/** Runs a COPY/ADD or WORKDIR step on an overlay of its destination filesystem; the upper directory is the diff. */
export async function runFile(file: FileDefinition, inputs: StepInput[], snapshots: SnapshotStore): Promise<{ root: MountedRootfs; parent: Layer[] }> {
  const destInput = file.dest === null ? undefined : inputs[file.dest];
  if (destInput && destInput.type !== 'rootfs') throw new Error('a file step needs a root filesystem as its destination');
  const parent = destInput?.layers ?? [];
  const root = await snapshots.mount(parent, true);
  const releases: (() => Promise<void>)[] = [];
  try {
    if (file.action === 'mkdir') {
      const path = pathInRoot(root.path, file.path);
      const first = await mkdir(path, { recursive: true, mode: file.mode });
      if (first !== undefined && file.user !== '') {
        // WORKDIR creates its directories owned by the current USER, as BuildKit does.
        const user = resolveUser(root.path, file.user);
        for (let p = path; p.length >= first.length; p = posix.dirname(p)) await chown(p, user.uid, user.gid);
      }
    } else {
      const owner = file.chown !== undefined ? resolveUser(root.path, file.chown) : undefined;
      const mode = file.chmod !== undefined ? parseInt(file.chmod, 8) : undefined;
      const exclude = new IgnoreRules(file.exclude);
      const opts = { ...(owner ? { owner } : {}), ...(mode !== undefined ? { mode } : {}), exclude: (rel: string) => exclude.ignores(rel), parents: file.parents, unpack: file.unpack };
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
        await mkdir(posix.dirname(abs), { recursive: true, mode: 0o755 });
        await writeFile(abs, doc.content, { mode: mode ?? 0o644 });
        if (owner) await chown(abs, owner.uid, owner.gid);
      }
    }
  } catch (err) {
    await root.release();
    throw err;
  } finally {
    for (const r of releases) await r();
  }
  await root.detach();
  return { root, parent };
}
