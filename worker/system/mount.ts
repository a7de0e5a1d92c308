import { runCommand } from './command.js';

/** Thin wrappers over mount(8)/umount(8): overlay, bind and read-only bind mounts. */

export interface OverlayOptions {
  /** Lower directories, topmost first. Relative paths resolve against `cwd`, which keeps the option string short. */
  lower: string[];
  upper?: string;
  work?: string;
  cwd: string;
}

export async function mountOverlay(target: string, o: OverlayOptions): Promise<void> {
  // metacopy and redirect_dir stay off so that every change is a plain file in the upper directory.
  const opts = [`lowerdir=${o.lower.join(':')}`];
  if (o.upper && o.work) opts.push(`upperdir=${o.upper}`, `workdir=${o.work}`);
  opts.push('redirect_dir=off', 'metacopy=off', 'index=off');
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', opts.join(','), target], { cwd: o.cwd });
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
