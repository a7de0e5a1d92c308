import { ContextError } from '../coordinator/context/build-context.js';
import { NamedContextError } from '../coordinator/context/named-contexts.js';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import { ExpansionError } from '../coordinator/dockerfile/shell-lex.js';
import { StepFailedError } from '../coordinator/build/solver.js';
import { ImagePullError } from '../coordinator/build/image-provider.js';
import { FetchError } from '../coordinator/build/url-fetcher.js';
import { ExportError } from '../coordinator/export/exporters.js';
import { OutputSpecError } from '../coordinator/export/output-spec.js';
import { PlanError } from '../coordinator/plan/planner.js';
import { InvalidReferenceError } from '../oci/reference.js';
import { RegistryError } from '../oci/registry/errors.js';

/** A mistake in how the command was called. */
export class UsageError extends Error {}

const expected = [RegistryError, FetchError, UsageError, PlanError, ContextError, InvalidReferenceError, ExpansionError, NamedContextError, OutputSpecError, ExportError, ImagePullError];

/**
 * What the user sees when a command fails: one line saying where and what, except for a failed step,
 * which also shows the tail of its output as BuildKit does. Errors we did not anticipate say so, and
 * show their stack only with DOCKYARD_DEBUG=1.
 */
export function formatError(err: unknown, dockerfileName: string): string {
  if (err instanceof DockerfileError) {
    return `error: ${dockerfileName}${err.line !== undefined ? `:${err.line}` : ''}: ${err.message}`;
  }
  if (err instanceof StepFailedError) {
    const lines = ['------', ` > ${err.step}:`, ...err.tail.map((l) => `${l}`), '------'];
    const where = err.line !== undefined ? `${dockerfileName}:${err.line}: ` : '';
    return [...(err.tail.length ? lines : []), `error: ${where}${err.step.replace(/^\[[^\]]*\] /, '')}: ${err.message}`].join('\n');
  }
  if (expected.some((cls) => err instanceof cls)) return `error: ${(err as Error).message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return process.env.DOCKYARD_DEBUG ? `internal error: ${e.stack}` : `internal error: ${e.message} (set DOCKYARD_DEBUG=1 for details and report it)`;
}
