import { DockerfileError } from '../dockerfile/errors.js';
import type { BuildResult as LocalBuildResult } from '../solver/build.js';
import { StepFailedError } from '../solver/solver.js';
import { ExpectedError } from '../../oci/expected-error.js';
import type { BuildFailure, BuildFailure__Output } from '../../proto/generated/dockyard/v1/BuildFailure.js';
import type { BuildResult } from '../../proto/generated/dockyard/v1/BuildResult.js';
import type { Descriptor } from '../../oci/manifest.js';

/** A build the farm failed on for a reason the user can act on: its message as the farm gave it. */
export class FarmBuildError extends ExpectedError {}

const descriptor = (d: Descriptor): { mediaType: string; digest: string; size: number } => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });

/** A finished build as the Build service reports it. */
export function resultMessage(r: LocalBuildResult): BuildResult {
  return {
    images: r.images.map((i) => ({ platform: i.platform, manifest: descriptor(i.manifest), config: descriptor(i.config) })),
    top: descriptor(r.top),
    misses: r.misses.map((m) => ({ step: m.step, reason: m.reason })),
    warnings: r.plan.warnings.map((w) => ({ message: w.message, ...(w.line !== undefined ? { line: w.line } : {}) })),
  };
}

/**
 * A failed build as the Build service reports it: the kind decides how the client prints it, so that a
 * farm build fails with the very line a local build prints. Only messages and output tails travel.
 */
export function failureMessage(err: unknown, cancelled: boolean): BuildFailure {
  if (cancelled) return { kind: 'FAILURE_KIND_CANCELLED', failure: { message: 'build cancelled', tail: [] } };
  if (err instanceof DockerfileError) return { kind: 'FAILURE_KIND_DOCKERFILE', failure: { message: err.message, tail: [] }, ...(err.line !== undefined ? { line: err.line } : {}) };
  if (err instanceof StepFailedError) return { kind: 'FAILURE_KIND_STEP', failure: { message: err.message, tail: err.tail }, step: err.step, ...(err.line !== undefined ? { line: err.line } : {}) };
  if (err instanceof ExpectedError) return { kind: 'FAILURE_KIND_USER', failure: { message: err.message, tail: [] } };
  return { kind: 'FAILURE_KIND_INTERNAL', failure: { message: err instanceof Error ? err.message : String(err), tail: [] } };
}

/** The error a client throws for a failure: the same classes a local build throws, so the CLI prints the same line. */
export function failureError(f: BuildFailure__Output): Error {
  const message = f.failure?.message ?? 'build failed';
  switch (f.kind) {
    case 'FAILURE_KIND_DOCKERFILE':
      return new DockerfileError(message, f.line);
    case 'FAILURE_KIND_STEP':
      return new StepFailedError(message, f.step ?? 'step', f.line, f.failure?.tail ?? []);
    case 'FAILURE_KIND_USER':
    case 'FAILURE_KIND_CANCELLED':
      return new FarmBuildError(message);
    default:
      return new Error(message);
  }
}
