import { digestOf } from '../../oci/digest.js';

/**
 * The build graph. Identical work has one key wherever it appears, and the graph collapses it into
 * one step. The step types themselves are the worker's (worker/step.ts).
 */
export type { CopySource, ExecDefinition, ExecMount, FileDefinition, GitSourceDefinition, SourceDefinition, Step, StepKey, StepKind } from '../../worker/step.js';
import type { Step, StepKey } from '../../worker/step.js';

type Unkeyed<T> = T extends Step ? Omit<T, 'key'> : never;
export type StepDraft = Unkeyed<Step>;

/** Gives a step its key. Only what the step does and sees enters the key, never where it was written. */
export function keyStep(draft: StepDraft): Step {
  const key = digestOf({ v: 1, ...draft });
  return { ...draft, key } as Step;
}

/** Holds every step of a plan once, in the order they were first added (inputs before users). */
export class StepGraph {
  private readonly byKey = new Map<StepKey, Step>();

  add(draft: StepDraft): Step {
    const step = keyStep(draft);
    const existing = this.byKey.get(step.key);
    if (existing) return existing;
    this.byKey.set(step.key, step);
    return step;
  }

  get(key: StepKey): Step | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  steps(): Step[] {
    return [...this.byKey.values()];
  }
}
