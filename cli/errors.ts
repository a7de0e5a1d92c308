import { ContextError } from '../coordinator/context/build-context.js';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import { ExpansionError } from '../coordinator/dockerfile/shell-lex.js';
import { PlanError } from '../coordinator/plan/planner.js';
import { InvalidReferenceError } from '../oci/reference.js';

/** A mistake in how the command was called. */
export class UsageError extends Error {}

/**
 * One line for the user: where the problem is and what it is. Errors we did not anticipate say so,
 * and show their stack only with DOCKYARD_DEBUG=1.
 */
export function formatError(err: unknown, dockerfileName: string): string {
  if (err instanceof DockerfileError) {
    return `error: ${dockerfileName}${err.line !== undefined ? `:${err.line}` : ''}: ${err.message}`;
  }
  if (err instanceof UsageError || err instanceof PlanError || err instanceof ContextError || err instanceof InvalidReferenceError || err instanceof ExpansionError) {
    return `error: ${err.message}`;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return process.env.DOCKYARD_DEBUG ? `internal error: ${e.stack}` : `internal error: ${e.message} (set DOCKYARD_DEBUG=1 for details and report it)`;
}
