import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { commandPath, tempDir } from './helpers.js';

/** A long-running `dockyard` process started by a test, ready once it printed its one line. */
export interface FarmProcess {
  child: ChildProcess;
  /** The ready line: `listening on HOST:PORT` or `registered as ID`. */
  line: string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/**
 * Starts `dockyard ARGS`, as installed (the script, which gives node its options, then execs it: the
 * same process), and waits for its first stdout line. `wrap` is a command that execs the rest in the
 * same process (`nsenter --net=...`), so that signals still reach dockyard.
 */
export async function startDockyard(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<FarmProcess> {
  const argv = [...wrap, commandPath, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKYARD_DEBUG: '', ...env } });
  live.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (live.delete(child), resolve(code))));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    void exited.then((code) => reject(new Error(`dockyard ${args[0]} exited (${code}) before it was ready: ${err}`)));
  });
  return {
    child,
    line,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `dockyard coordinator` on a free loopback port; its address. */
export async function startCoordinator(redisUrl: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, listen = '127.0.0.1:0'): Promise<FarmProcess & { address: string }> {
  const p = await startDockyard(['coordinator', '--listen', listen, '--redis', redisUrl, '--cache-dir', tempDir('coordinator'), ...extra], env);
  const m = /^listening on (\S+)$/.exec(p.line);
  if (!m) throw new Error(`unexpected first line of the coordinator: ${p.line}`);
  return { ...p, address: m[1]! };
}

/** `dockyard worker` with a cache directory of its own, as if on a machine of its own. */
export function startWorker(address: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<FarmProcess> {
  return startDockyard(['worker', '--coordinator', address, '--cache-dir', tempDir('worker'), '--slots', '2', ...extra], env, wrap);
}
