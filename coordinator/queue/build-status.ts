import type { Job, JobState } from 'bullmq';
import type { BuildJobData } from './build-job.js';

/** The reason a cancelled build's job fails with; `list` and `inspect` show such a job as `cancelled`. */
export const CANCELLED = 'cancelled';

export type BuildState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled';

/** Progress a coordinator reports while it runs a build (kept by BullMQ as the job's progress). */
export interface BuildProgress {
  stepsDone: number;
  stepsTotal: number;
  /** The step running or last finished, for humans. */
  current?: string;
}

/** What a finished job returns: the processor's value, and who produced it on which attempt. */
export interface BuildOutcome<R> {
  value: R;
  /** The name of the `BuildQueueWorker` (coordinator) that finished it. */
  finishedBy: string;
  /** Which start of the job this was: 1, or more after retries and stalled-job recovery. */
  attempt: number;
}

/** One line of `dockyard queue ls`. */
export interface BuildSummary {
  id: string;
  tenant: string;
  state: BuildState;
  priority: number;
  progress: BuildProgress | undefined;
  /** How many times a coordinator started it (retries and take-overs after a stall included). */
  attemptsStarted: number;
  /** How many attempts ended, failed or completed (a coordinator's death ends none). */
  attemptsMade: number;
  submittedAt: string;
  /** The coordinator processing it, or which last processed it. */
  processedBy?: string;
  finishedAt?: string;
  failedReason?: string;
}

/** `dockyard queue inspect`: the summary plus the request and the result. */
export interface BuildDetails<R = unknown> extends BuildSummary {
  data: BuildJobData;
  outcome?: BuildOutcome<R>;
  maxAttempts: number;
}

export function buildState(state: JobState | 'unknown', failedReason: string | undefined): BuildState | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
      return state;
    case 'failed':
      return failedReason === CANCELLED ? 'cancelled' : 'failed';
    default:
      return undefined;
  }
}

function isProgress(p: unknown): p is BuildProgress {
  return typeof p === 'object' && p !== null && typeof (p as BuildProgress).stepsDone === 'number' && typeof (p as BuildProgress).stepsTotal === 'number';
}

export function summarise(job: Job<BuildJobData>, state: BuildState): BuildSummary {
  return {
    id: job.id!,
    tenant: job.data.tenant,
    state,
    priority: job.priority,
    progress: isProgress(job.progress) ? job.progress : undefined,
    attemptsStarted: job.attemptsStarted,
    attemptsMade: job.attemptsMade,
    submittedAt: job.data.submittedAt,
    ...(job.processedBy ? { processedBy: job.processedBy } : {}),
    ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  };
}
