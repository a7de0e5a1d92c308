import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, QueueEventsProducer, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BuildJobError, checkBuildRequest, checkPriority, checkTenant, DEFAULT_PRIORITY, type BuildJobData, type BuildRequest } from './build-job.js';
import { buildState, summarise, type BuildDetails, type BuildOutcome, type BuildProgress, type BuildState, type BuildSummary } from './build-status.js';
import { publishCancel } from './cancel-requests.js';
import { checkPrefix, connectRedis, DEFAULT_QUEUE_NAME, redisOptions, type RedisTarget } from './redis-connection.js';
import { TenantSlots } from './tenant-slots.js';

export const BUILD_JOB_NAME = 'build';

export interface BuildQueueOptions extends RedisTarget {
  queueName?: string;
  /** Attempts per build before it fails (a coordinator's death is not one). Default 3. */
  attempts?: number;
  /** First retry delay; it doubles with each failure. Default 5000 ms. */
  backoffMs?: number;
  /** Finished jobs kept for `ls`/`inspect`, by age. Default a week. */
  keepFinishedSeconds?: number;
}

export interface EnqueueOptions {
  tenant: string;
  /** 1 runs first; default 1000. */
  priority?: number;
  attempts?: number;
  /** Default: a random UUID. */
  jobId?: string;
  /**
   * While a build queued with this id has not finished, another one is not queued: `enqueue` returns
   * the id of the one already there (BullMQ's deduplication).
   */
  deduplicationId?: string;
}

export type CancelOutcome =
  /** It had not started: it is gone from the queue. */
  | { kind: 'removed' }
  /** It was running (or being taken): its coordinator was told to abort it, and it will not restart. */
  | { kind: 'signalled' }
  | { kind: 'finished'; state: BuildState }
  | { kind: 'not-found' };

export type BuildEvent =
  | { kind: 'active' }
  | { kind: 'progress'; progress: BuildProgress }
  | { kind: 'completed'; outcome: BuildOutcome<unknown> }
  | { kind: 'failed'; reason: string };

const LISTED_STATES = ['active', 'prioritized', 'waiting', 'delayed', 'completed', 'failed'] as const;

/** The client side of the farm's durable build queue: submit, watch, list, inspect, cancel. */
export class BuildQueue {
  readonly prefix: string;
  readonly queueName: string;
  private readonly queue: Queue<BuildJobData, BuildOutcome<unknown>>;
  private readonly producer: QueueEventsProducer;
  private readonly redis: Redis;
  private readonly slots: TenantSlots;
  private events: Promise<QueueEvents> | undefined;

  constructor(private readonly options: BuildQueueOptions) {
    this.prefix = checkPrefix(options.prefix);
    this.queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    const connection = redisOptions(options.redisUrl);
    this.queue = new Queue(this.queueName, { connection, prefix: this.prefix });
    this.producer = new QueueEventsProducer(this.queueName, { connection, prefix: this.prefix });
    this.redis = connectRedis(options.redisUrl);
    // Only for limits: the queue side holds no slot, so the lease length does not matter here.
    this.slots = new TenantSlots(this.redis, this.prefix, 0);
  }

  /** Queues a build; returns its id. The request is checked field by field: only secret ids may ride along. */
  async enqueue(request: BuildRequest, opts: EnqueueOptions): Promise<string> {
    const data: BuildJobData = {
      request: checkBuildRequest(request),
      tenant: checkTenant(opts.tenant),
      priority: checkPriority(opts.priority ?? DEFAULT_PRIORITY),
      submittedAt: new Date().toISOString(),
    };
    const keep = { age: this.options.keepFinishedSeconds ?? 7 * 24 * 3600 };
    const job = await this.queue.add(BUILD_JOB_NAME, data, {
      jobId: opts.jobId ?? randomUUID(),
      ...(opts.deduplicationId !== undefined ? { deduplication: { id: opts.deduplicationId } } : {}),
      // Every job carries a priority: BullMQ runs priority-0 jobs before all prioritised ones.
      priority: data.priority,
      attempts: opts.attempts ?? this.options.attempts ?? 3,
      backoff: { type: 'exponential', delay: this.options.backoffMs ?? 5000 },
      removeOnComplete: keep,
      removeOnFail: keep,
    });
    return job.id!;
  }

  /** The unfinished build queued with `deduplicationId`, if there is one. */
  async deduplicatedBy(deduplicationId: string): Promise<string | undefined> {
    return (await this.queue.getDeduplicationJobId(deduplicationId)) ?? undefined;
  }

  /** Limits how many builds of a tenant run at once, on every coordinator; `undefined` restores the default. */
  async setTenantConcurrency(tenant: string, limit: number | undefined): Promise<void> {
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new BuildJobError(`invalid tenant concurrency ${limit}: expected a positive whole number`);
    await this.slots.setLimit(checkTenant(tenant), limit);
  }

  async list(states: BuildState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'], limit = 1000): Promise<BuildSummary[]> {
    const jobs = await this.queue.getJobs([...LISTED_STATES], 0, limit - 1);
    const out: BuildSummary[] = [];
    for (const job of jobs) {
      if (!job?.id) continue;
      const state = buildState(await job.getState(), job.failedReason);
      if (state && states.includes(state)) out.push(summarise(job, state));
    }
    return out;
  }

  async inspect(id: string): Promise<BuildDetails | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    const state = buildState(await job.getState(), job.failedReason);
    if (!state) return undefined;
    return {
      ...summarise(job, state),
      data: job.data,
      maxAttempts: job.opts.attempts ?? 1,
      ...(state === 'completed' && job.returnvalue ? { outcome: job.returnvalue } : {}),
    };
  }

  /**
   * Cancels a build. The request is written into the job first (so a coordinator that starts or takes
   * it over later fails it at once), then a waiting job is removed; an active one cannot be (BullMQ holds
   * its lock), so its coordinator is told over the event stream and aborts it.
   */
  async cancel(id: string): Promise<CancelOutcome> {
    const job = await this.queue.getJob(id);
    if (!job) return { kind: 'not-found' };
    const before = buildState(await job.getState(), job.failedReason);
    if (before === 'completed' || before === 'failed' || before === 'cancelled') return { kind: 'finished', state: before };
    try {
      await job.updateData({ ...job.data, cancelRequestedAt: new Date().toISOString() });
    } catch {
      return this.cancelOutcomeOfGone(id);
    }
    if ((await this.queue.remove(id)) === 1) return { kind: 'removed' };
    const after = await this.queue.getJob(id);
    if (!after) return { kind: 'removed' };
    const state = buildState(await after.getState(), after.failedReason);
    if (state === 'completed' || state === 'failed' || state === 'cancelled') return { kind: 'finished', state };
    await publishCancel(this.producer, id);
    return { kind: 'signalled' };
  }

  private async cancelOutcomeOfGone(id: string): Promise<CancelOutcome> {
    const job = await this.queue.getJob(id);
    const state = job ? buildState(await job.getState(), job.failedReason) : undefined;
    return state ? { kind: 'finished', state } : { kind: 'not-found' };
  }

  private queueEvents(): Promise<QueueEvents> {
    this.events ??= (async () => {
      const events = new QueueEvents(this.queueName, { connection: redisOptions(this.options.redisUrl), prefix: this.prefix });
      await events.waitUntilReady();
      return events;
    })();
    return this.events;
  }

  /**
   * Calls `listener` with the build's events from now on; returns the unsubscribe function. Subscribe
   * before the build can start if no event may be missed (the stream is read from "now").
   */
  async watch(id: string, listener: (e: BuildEvent) => void): Promise<() => void> {
    const events = await this.queueEvents();
    const onActive = (): void => listener({ kind: 'active' });
    const onProgress = (a: { data: unknown }): void => listener({ kind: 'progress', progress: a.data as BuildProgress });
    const onCompleted = (a: { returnvalue: unknown }): void => listener({ kind: 'completed', outcome: a.returnvalue as BuildOutcome<unknown> });
    const onFailed = (a: { failedReason: string }): void => listener({ kind: 'failed', reason: a.failedReason });
    // QueueEvents emits `EVENT:JOBID` for per-job listeners; those names are outside its typed map.
    const emitter = events as unknown as NodeJS.EventEmitter;
    const pairs: [string, (...args: never[]) => void][] = [
      [`active:${id}`, onActive],
      [`progress:${id}`, onProgress],
      [`completed:${id}`, onCompleted],
      [`failed:${id}`, onFailed],
    ];
    for (const [name, fn] of pairs) emitter.on(name, fn as (...args: unknown[]) => void);
    return () => {
      for (const [name, fn] of pairs) emitter.off(name, fn as (...args: unknown[]) => void);
    };
  }

  /** Resolves with the build's outcome once it completes; rejects with its reason if it fails for good. */
  async waitUntilFinished<R>(id: string): Promise<BuildOutcome<R>> {
    const events = await this.queueEvents();
    const job = await this.queue.getJob(id);
    if (!job) throw new Error(`no build ${id}`);
    return (await job.waitUntilFinished(events)) as BuildOutcome<R>;
  }

  /** For tests and `ls`: the raw BullMQ job. */
  job(id: string): Promise<Job<BuildJobData, BuildOutcome<unknown>> | undefined> {
    return this.queue.getJob(id);
  }

  async close(): Promise<void> {
    const events = this.events;
    await Promise.all([this.queue.close(), this.producer.close(), events ? (await events).close() : undefined]);
    this.redis.disconnect();
  }
}
