import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StepFailedError } from '../coordinator/solver/solver.js';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import { ExpectedError } from '../oci/expected-error.js';
import { escapeControls } from './escape-controls.js';

/** A mistake in how the command was called. */
export class UsageError extends ExpectedError {}

/** node:util's `parseArgs` for `command`: its complaint becomes one line pointing at the command's help. */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/, '')}. See 'dockyard ${command} --help'`);
  }
}

/**
 * What the user sees when a command fails: one line saying where and what, except for a failed step,
 * which also shows the tail of its output as BuildKit does. Errors we did not anticipate say so, and
 * show their stack only with DOCKYARD_DEBUG=1. Messages quote Dockerfile text, so control characters
 * in them are escaped; a step's own output is shown as it came.
 */
export function formatError(err: unknown, dockerfileName: string): string {
  const name = escapeControls(dockerfileName);
  if (err instanceof DockerfileError) {
    return `error: ${name}${err.line !== undefined ? `:${err.line}` : ''}: ${escapeControls(err.message)}`;
  }
  if (err instanceof StepFailedError) {
    const step = escapeControls(err.step);
    const lines = ['------', ` > ${step}:`, ...err.tail.map((l) => `${l}`), '------'];
    const where = err.line !== undefined ? `${name}:${err.line}: ` : '';
    return [...(err.tail.length ? lines : []), `error: ${where}${step.replace(/^\[[^\]]*\] /, '')}: ${escapeControls(err.message)}`].join('\n');
  }
  if (err instanceof ExpectedError) return `error: ${escapeControls(err.message)}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return process.env.DOCKYARD_DEBUG ? `internal error: ${e.stack}` : `internal error: ${escapeControls(e.message)} (set DOCKYARD_DEBUG=1 for details and report it)`;
}

/** Finds the -f value for error messages, without parsing the rest. */
function dockerfileNameIn(argv: string[]): string {
  const i = argv.findIndex((a) => a === '-f' || a === '--file');
  if (i >= 0 && argv[i + 1]) return argv[i + 1]!;
  const eq = argv.find((a) => a.startsWith('--file='));
  return eq ? eq.slice('--file='.length) : 'Dockerfile';
}

/** Ends the process for a command run with `argv`: its exit code, or its error as one line (2 for usage errors). */
export function settle(run: Promise<number>, argv: string[]): void {
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(formatError(err, dockerfileNameIn(argv)) + '\n');
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
