import { runCommand } from './command.js';

const OPAQUE = 'trusted.overlay.opaque';
/** getfattr's `-m` takes a regular expression. */
const OPAQUE_PATTERN = '^trusted\\.overlay\\.opaque$';

/** Directories under `root` that overlayfs marked opaque (their lower contents are hidden). Paths are relative. */
export async function findOpaqueDirs(root: string): Promise<Set<string>> {
  // A dump of the attributes matching the name lists only the files that have it: `-n` would write an
  // error line for every other file (thousands for a large COPY) for this process to read and drop.
  const r = await runCommand('getfattr', ['-R', '-h', '-d', '-m', OPAQUE_PATTERN, '--absolute-names', '.'], { cwd: root, check: false });
  const dirs = new Set<string>();
  let current: string | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) current = line.slice(8).replace(/^\.\/?/, '');
    else if (current !== undefined && line === `${OPAQUE}="y"`) dirs.add(current);
  }
  return dirs;
}

export async function markOpaque(dir: string): Promise<void> {
  await runCommand('setfattr', ['-n', OPAQUE, '-v', 'y', dir]);
}

/** Whether overlayfs marked `dir` opaque. */
export async function isOpaque(dir: string): Promise<boolean> {
  const r = await runCommand('getfattr', ['-h', '--only-values', '-n', OPAQUE, '--absolute-names', dir], { check: false });
  return r.code === 0 && r.stdout === 'y';
}
