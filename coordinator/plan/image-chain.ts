import type { Step, StepKey } from '../../worker/step.js';

/**
 * The steps whose own layers end up in the image whose filesystem `result` gives: `result` and, down
 * its root filesystem (a RUN's rootfs, a COPY's destination, every layer a merge stacks), the steps
 * before it. Source steps are left out: their layers come as they are.
 */
export function imageChainSteps(steps: ReadonlyMap<StepKey, Step>, result: StepKey | null): StepKey[] {
  const out: StepKey[] = [];
  const seen = new Set<StepKey>();
  const pending = result === null ? [] : [result];
  while (pending.length > 0) {
    const key = pending.pop()!;
    const step = steps.get(key);
    if (!step || seen.has(key) || step.kind === 'source') continue;
    seen.add(key);
    out.push(key);
    const below = step.kind === 'exec' ? step.exec.rootfs : step.kind === 'file' ? step.file.dest : undefined;
    if (step.kind === 'merge') pending.push(...step.inputs);
    else if (below !== null && below !== undefined) pending.push(step.inputs[below]!);
  }
  return out;
}
