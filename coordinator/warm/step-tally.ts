import type { FarmEvent } from '../farm/build-events.js';
import { Progress, type ProgressMode } from '../progress/progress.js';

/** A warm run's cache coverage: of `total` Dockerfile steps, `warm` came from the cache, `built` ran. */
export interface Coverage {
  warm: number;
  built: number;
  total: number;
}

/** Dockerfile steps (`[stage n/m] ...`), not context loads, git checkouts or exports. */
const isStep = (name: string): boolean => name.startsWith('[') && !name.startsWith('[internal]');

/** Counts the steps of builds as their progress reports them: started, then cached or done. */
export class StepTally {
  /** Vertices of the current build that are steps and have not ended. */
  private open = new Set<number>();
  private cachedCount = 0;
  private builtCount = 0;

  /** A new build: vertex ids start over. */
  nextBuild(): void {
    this.open = new Set();
  }

  started(vertex: number, name: string): void {
    if (isStep(name)) this.open.add(vertex);
  }

  ended(vertex: number, cached: boolean): void {
    if (!this.open.delete(vertex)) return;
    if (cached) this.cachedCount++;
    else this.builtCount++;
  }

  coverage(): Coverage {
    return { warm: this.cachedCount, built: this.builtCount, total: this.cachedCount + this.builtCount };
  }
}

/** A build's Progress, shown as `mode` says, that also counts its steps into `tally`. */
export class TallyingProgress extends Progress {
  constructor(
    private readonly tally: StepTally,
    mode: ProgressMode,
    out?: NodeJS.WritableStream,
  ) {
    super(mode, out);
    tally.nextBuild();
  }

  override start(name: string): number {
    const id = super.start(name);
    this.tally.started(id, name);
    return id;
  }

  override cached(id: number): void {
    super.cached(id);
    this.tally.ended(id, true);
  }

  override done(id: number): void {
    super.done(id);
    this.tally.ended(id, false);
  }
}

/** A farm build's coverage from its event stream: only its last attempt counts (an attempt starts over). */
export function eventCoverage(events: Iterable<FarmEvent>): Coverage {
  let tally = new StepTally();
  for (const e of events) {
    if (e.kind === 'attempt') {
      tally = new StepTally();
      continue;
    }
    if (e.kind !== 'progress') continue;
    const p = e.progress;
    if (p.started !== undefined && p.started !== null) tally.started(p.vertex ?? 0, p.started);
    else if (p.cached) tally.ended(p.vertex ?? 0, true);
    else if (p.done) tally.ended(p.vertex ?? 0, false);
  }
  return tally.coverage();
}
