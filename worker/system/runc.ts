import { runCommand } from './command.js';
import { childProcess } from '../../oci/lazy-modules.js';

export interface RuncRunOptions {
  /** runc's state directory. */
  root: string;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  signal?: AbortSignal;
}

/**
 * `runc run` of a prepared bundle; resolves with the container process's exit code. runc creates
 * missing mount points (/dev, /proc, /sys...) under its own umask, so it runs under 022 (0755
 * directories, as with BuildKit) whatever the user's umask is.
 */
export function runcRun(bundle: string, id: string, o: RuncRunOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn('/bin/sh', ['-c', 'umask 022; command -v runc >/dev/null || { echo "runc is not installed: run scripts/setup.sh" >&2; exit 127; }; exec runc "$@"', 'runc', '--root', o.root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', o.onStdout);
    child.stderr.on('data', o.onStderr);
    const onAbort = (): void => void runCommand('runc', ['--root', o.root, 'kill', id, 'KILL'], { check: false });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error('runc is not installed: run scripts/setup.sh') : e));
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      void runCommand('runc', ['--root', o.root, 'delete', '-f', id], { check: false });
      resolve(code ?? (sig ? 128 + 9 : 1));
    });
  });
}

/**
 * Kills and removes every container under the state directory `root`: what a killed process that
 * owned `root` alone left running. Never call it on a root another live process uses.
 */
export async function runcDeleteAll(root: string): Promise<void> {
  const list = await runCommand('runc', ['--root', root, 'list', '-q'], { check: false });
  for (const id of list.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '')) await runCommand('runc', ['--root', root, 'delete', '-f', id], { check: false });
}
