import { childProcess } from '../../oci/lazy-modules.js';

export interface CommandResult {
  code: number;
  stdout: string;
  /** stdout as bytes, for output that is not text or must be checked before it is decoded. */
  output: Buffer;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(`${command} failed (exit ${result.code}): ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
}

/** Runs a system tool to completion. `check` (the default) turns a non-zero exit into a CommandError. */
export function runCommand(file: string, args: string[], opts: { cwd?: string; check?: boolean; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(file, args, { cwd: opts.cwd, ...(opts.env ? { env: opts.env } : {}), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error(`${file} is not installed: run scripts/setup.sh`) : e));
    child.on('close', (code) => {
      const output = Buffer.concat(out);
      const result = { code: code ?? 1, stdout: output.toString(), output, stderr: Buffer.concat(err).toString() };
      if (result.code !== 0 && opts.check !== false) reject(new CommandError([file, ...args].join(' '), result));
      else resolve(result);
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}
