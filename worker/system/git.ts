import { runCommand } from './command.js';

/** A git command failed; the message is git's last line of complaint, with secrets masked. */
export class GitCommandError extends Error {}

export interface GitOptions {
  cwd?: string;
  /** Strings that must not appear in a message (a remote with credentials), each with its masked form. */
  redact?: [secret: string, shown: string][];
}

/**
 * Runs the system `git`, never prompting for credentials, with the umask BuildKit's checkouts get
 * (022: files 0644 or 0755, whatever this process's umask is).
 */
export async function git(args: string[], opts: GitOptions = {}): Promise<string> {
  const script = 'umask 022 && GIT_TERMINAL_PROMPT=0 exec git "$@"';
  const r = await runCommand('/bin/sh', ['-c', script, 'git', ...args], { ...(opts.cwd ? { cwd: opts.cwd } : {}), check: false });
  if (r.code === 0) return r.stdout;
  let last = r.stderr.trim().split('\n').at(-1)?.trim() || `exit ${r.code}`;
  for (const [secret, shown] of opts.redact ?? []) if (secret !== '') last = last.split(secret).join(shown);
  throw new GitCommandError(`git ${args[0]} failed: ${last.replace(/^fatal: /, '')}`);
}
