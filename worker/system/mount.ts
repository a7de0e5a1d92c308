import { runCommand } from './command.js';

/** Thin wrappers over mount(8)/umount(8): overlay, bind and read-only bind mounts. */

export interface OverlayOptions {
  /** Lower directories, topmost first. Relative paths resolve against `cwd`, which keeps the option string short. */
  lower: string[];
  upper?: string;
  work?: string;
  cwd: string;
}

/**
 * Mounts an overlay. A writable one is `volatile` (Linux 5.10+): its unmount then skips the sync of the
 * whole upper filesystem, which flushed every file written since (tens of ms after a large COPY or
 * fetch). A step's upper directory is scratch until its layer's blob is committed, and each upper and
 * work pair is mounted once. Older kernels refuse the option; the mount is retried without it.
 */
export async function mountOverlay(target: string, o: OverlayOptions): Promise<void> {
  // metacopy and redirect_dir stay off so that every change is a plain file in the upper directory.
  const opts = [`lowerdir=${o.lower.join(':')}`, 'redirect_dir=off', 'metacopy=off', 'index=off'];
  const mount = (extra: string[]) => runCommand('mount', ['-t', 'overlay', 'overlay', '-o', [...opts, ...extra].join(','), target], { cwd: o.cwd });
  if (!o.upper || !o.work) return void (await mount([]));
  const upper = [`upperdir=${o.upper}`, `workdir=${o.work}`];
  await mount([...upper, 'volatile']).catch(() => mount(upper));
}

export async function mountBind(source: string, target: string, readonly = false): Promise<void> {
  await runCommand('mount', ['--bind', source, target]);
  if (readonly) await runCommand('mount', ['-o', 'remount,bind,ro', target]);
}

/** Unmounts, falling back to a lazy unmount when something still holds the mount. */
export async function unmount(target: string): Promise<void> {
  const r = await runCommand('umount', [target], { check: false });
  if (r.code !== 0 && !/not mounted|no mount point/i.test(r.stderr)) await runCommand('umount', ['-l', target], { check: false });
}
