import { childProcess } from '../../oci/lazy-modules.js';

/** An exclusive lock held for this process; `release` gives it up. */
export interface FileLock {
  release(): Promise<void>;
}

const BUSY = 75;

/**
 * Takes an exclusive flock(2) on `path`, shared with every process on the machine. util-linux's
 * flock(1) holds it while running `cat` on a pipe from us: when this process ends, even by kill -9,
 * the pipe closes, `cat` exits and the kernel drops the lock. `wait: false` returns undefined when the
 * lock is busy instead of waiting.
 */
export function lockFile(path: string, opts: { wait: boolean; signal?: AbortSignal }): Promise<FileLock | undefined> {
  return new Promise((resolve, reject) => {
    // `sh` says so once the lock is ours (flock's own --verbose output is lost in its stdio buffer).
    const child = childProcess().spawn('flock', ['-x', ...(opts.wait ? [] : ['-n', '-E', String(BUSY)]), path, 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let held = false;
    let stderr = '';
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const release = async (): Promise<void> => {
      child.stdin.end();
      await exited;
    };
    const onAbort = (): void => void child.kill('SIGKILL');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      if (held || !d.toString().includes('locked')) return;
      held = true;
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ release });
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error('flock is not installed: install util-linux') : e));
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (held) return;
      if (code === BUSY) resolve(undefined);
      else reject(new Error(opts.signal?.aborted ? 'build cancelled' : `cannot lock ${path}: ${stderr.trim() || `flock exited with ${code}`}`));
    });
  });
}
