import type { Digest } from '../../oci/digest.js';
import { formatPlatform, parsePlatform } from '../../oci/platform.js';
import type { RemoteStepInput } from '../../worker/contract/step-io.js';
import type { ExecutableStep } from '../../worker/worker.js';

/**
 * Where a step runs, as a pure function of plain data: the farm's placement rules in one place, so
 * they are tested without workers or streams.
 *
 * 1. Only workers that run the step's platform: natively if any can, else under emulation.
 * 2. Only workers with a free slot that are not draining; if none, the step waits.
 * 3. Among those, a worker that holds the step's parent snapshot (the last layer of the filesystem it
 *    starts from) saves fetching and unpacking it.
 * 4. Then the least loaded (running / slots), so independent steps spread over workers; ties go to the
 *    most free slots, then the smallest id (deterministic).
 */

/** What the scheduler knows of one connected worker. */
export interface WorkerCandidate {
  id: string;
  native: readonly string[];
  emulated: readonly string[];
  slots: number;
  /** Steps running on it now (ours, and what its heartbeat says others gave it). */
  running: number;
  /** Slots it can take now. */
  free: number;
  draining: boolean;
  /** Whether it recently produced or used the layer with this diffID (so it likely has the snapshot). */
  holds(diffID: Digest): boolean;
}

export type Placement =
  | { kind: 'assign'; worker: string; why: 'parent-snapshot' | 'least-loaded'; emulated: boolean }
  /** Some worker runs the platform but none has a free slot now. */
  | { kind: 'wait' }
  /** No connected worker runs the platform. */
  | { kind: 'unschedulable'; reason: string };

/** A platform string in containerd's normal form, so `linux/arm64/v8` and `linux/arm64` match. */
export function normalPlatform(text: string): string {
  try {
    return formatPlatform(parsePlatform(text));
  } catch {
    return text;
  }
}

/** The index of the input whose filesystem the step starts from, if any. */
function parentInput(step: ExecutableStep): number | null {
  switch (step.kind) {
    case 'exec':
      return step.exec.rootfs;
    case 'file':
      return step.file.dest;
    case 'merge':
      return step.inputs.length > 0 ? 0 : null;
  }
}

/** The diffID of the parent snapshot: the last layer of the rootfs input, or undefined (empty, or files). */
export function parentSnapshot(step: ExecutableStep, inputs: readonly RemoteStepInput[]): Digest | undefined {
  const i = parentInput(step);
  const input = i === null ? undefined : inputs[i];
  return input?.type === 'rootfs' ? input.layers.at(-1)?.diffID : undefined;
}

const load = (w: WorkerCandidate): number => (w.slots > 0 ? w.running / w.slots : Infinity);

function leastLoaded(ws: WorkerCandidate[]): WorkerCandidate {
  return ws.reduce((best, w) => {
    const d = load(w) - load(best) || best.free - w.free || (w.id < best.id ? -1 : 1);
    return d < 0 ? w : best;
  });
}

/** Chooses a worker for `step`, or says why it must wait or cannot run. */
export function pickWorker(step: ExecutableStep, inputs: readonly RemoteStepInput[], workers: readonly WorkerCandidate[]): Placement {
  const platform = normalPlatform(step.platform);
  const runs = (list: readonly string[]): boolean => list.some((p) => normalPlatform(p) === platform);
  const native = workers.filter((w) => runs(w.native));
  const emulated = workers.filter((w) => !runs(w.native) && runs(w.emulated));
  if (native.length + emulated.length === 0) {
    const known = workers.map((w) => `${w.id} (${[...w.native, ...w.emulated.map((p) => `${p} emulated`)].join(', ') || 'no platforms'})`);
    return { kind: 'unschedulable', reason: `no connected worker runs ${platform}${known.length > 0 ? `; connected: ${known.join('; ')}` : ''}` };
  }
  const ready = (ws: WorkerCandidate[]): WorkerCandidate[] => ws.filter((w) => !w.draining && w.free > 0);
  const parent = parentSnapshot(step, inputs);
  // Native before emulated; when every native worker is full, a free emulator runs the step now
  // rather than leaving it queued (emulated slots are otherwise idle).
  for (const [pool, isEmulated] of [
    [ready(native), false],
    [ready(emulated), true],
  ] as const) {
    if (pool.length === 0) continue;
    const holders = parent === undefined ? [] : pool.filter((w) => w.holds(parent));
    if (holders.length > 0) return { kind: 'assign', worker: leastLoaded(holders).id, why: 'parent-snapshot', emulated: isEmulated };
    return { kind: 'assign', worker: leastLoaded(pool).id, why: 'least-loaded', emulated: isEmulated };
  }
  return { kind: 'wait' };
}
