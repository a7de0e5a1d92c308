import { DelayedError, Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkBuildJobData, type BuildJobData } from './build-job.js';
import { CANCELLED, type BuildOutcome, type BuildProgress } from './build-status.js';
import { onCancelRequest } from './cancel-requests.js';
import { checkPrefix, connectRedis, DEFAULT_QUEUE_NAME, redisOptions, type RedisTarget } from './redis-connection.js';
import { TenantSlots } from './tenant-slots.js';

/** The build a processor runs, without BullMQ in the way. */
export interface ActiveBuild {
  readonly id: string;
  readonly data: BuildJobData;
  /** 1 on the first start; more after a failure or after another coordinator died holding it. */
  readonly attempt: number;
  /**
   * True when an earlier attempt started: the processor must not assume it left nothing behind, and it
   * restarts the build from the top (its finished steps are cache hits, so that costs little).
   */
  readonly resumed: boolean;
  reportProgress(progress: BuildProgress): Promise<void>;
}

/**
 * Runs one build. It must be restartable: a coordinator may die at any point, and another then calls
 * the processor again for the same build. `signal` aborts on cancel; reject (with anything) when it
 * does. Return a JSON-serialisable value.
 */
export type BuildProcessor<R> = (build: ActiveBuild, signal: AbortSignal) => Promise<R>;

export type WorkerEvent =
  /** The tenant was at its limit: the job went back to the delayed set until a slot frees. */
  | { kind: 'parked'; jobId: string; tenant: string }
  | { kind: 'started'; jobId: string; tenant: string; attempt: number }
  | { kind: 'finished'; jobId: string; tenant: string; ok: boolean }
  /** A slot's lease ran out while its job still ran (this process was stalled longer than the lease). */
  | { kind: 'slot-lost'; jobId: string; tenant: string }
  | { kind: 'error'; message: string };

export interface BuildQueueWorkerOptions extends RedisTarget {
  queueName?: string;
  /** This coordinator's name, recorded on the jobs it processes. */
  name: string;
  /** Builds this coordinator runs at once. Default 4. */
  concurrency?: number;
  /**
   * How long a job's lock outlives its holder's last renewal (renewed every half of it). When a
   * coordinator dies, its jobs are taken over after at most `lockDurationMs + 2 × stalledIntervalMs`.
   * Default 10 000.
   */
  lockDurationMs?: number;
  /** How often this coordinator looks for stalled jobs. Default 5000. */
  stalledIntervalMs?: number;
  /** Coordinator deaths a build survives before it fails. Default 3. */
  maxStalledCount?: number;
  /** Running builds per tenant when no limit was set for it. Default 2. */
  defaultTenantConcurrency?: number;
  /** Lease of a tenant slot (refreshed every third of it). Default `lockDurationMs`. */
  tenantSlotLeaseMs?: number;
  /** A parked job is retried after this long even if no release woke it (the safety net). Default 5000. */
  parkDelayMs?: number;
  onEvent?: (e: WorkerEvent) => void;
}

/**
 * What a coordinator runs to take builds off the queue. Several of them (in several processes) share
 * one Redis and prefix; BullMQ's locks make sure each build runs on one at a time, and its stalled-job
 * check hands a dead coordinator's builds to a live one.
 */
export class BuildQueueWorker<R> {
  readonly name: string;
  private readonly worker: Worker<BuildJobData, BuildOutcome<R>>;
  private readonly queue: Queue<BuildJobData>;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly slots: TenantSlots;
  private readonly defaultTenantConcurrency: number;
  private readonly parkDelayMs: number;
  private readonly emit: (e: WorkerEvent) => void;

  constructor(options: BuildQueueWorkerOptions, private readonly processor: BuildProcessor<R>) {
    const prefix = checkPrefix(options.prefix);
    const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    const connection = redisOptions(options.redisUrl);
    const lockDuration = options.lockDurationMs ?? 10_000;
    this.name = options.name;
    this.defaultTenantConcurrency = options.defaultTenantConcurrency ?? 2;
    this.parkDelayMs = options.parkDelayMs ?? 5000;
    this.emit = options.onEvent ?? (() => {});
    this.redis = connectRedis(options.redisUrl);
    this.slots = new TenantSlots(this.redis, prefix, options.tenantSlotLeaseMs ?? lockDuration);
    this.queue = new Queue(queueName, { connection, prefix });
    this.events = new QueueEvents(queueName, { connection, prefix });
    onCancelRequest(this.events, (jobId) => this.worker.cancelJob(jobId, CANCELLED));
    // Three parameters: BullMQ only passes an abort signal to processors that declare one.
    const process = (job: Job<BuildJobData, BuildOutcome<R>>, token: string | undefined, signal: AbortSignal | undefined) => this.process(job, token, signal);
    this.worker = new Worker(queueName, process, {
      connection,
      prefix,
      name: options.name,
      concurrency: options.concurrency ?? 4,
      lockDuration,
      stalledInterval: options.stalledIntervalMs ?? 5000,
      maxStalledCount: options.maxStalledCount ?? 3,
      autorun: false,
    });
    this.worker.on('error', (err) => this.emit({ kind: 'error', message: err.message }));
    this.events.on('error', (err) => this.emit({ kind: 'error', message: err.message }));
  }

  /** Starts taking builds, once the cancel channel is listening (so no cancel of ours is missed). */
  async start(): Promise<void> {
    await this.events.waitUntilReady();
    void this.worker.run().catch((err: Error) => this.emit({ kind: 'error', message: err.message }));
    await this.worker.waitUntilReady();
  }

  private async process(job: Job<BuildJobData, BuildOutcome<R>>, token: string | undefined, signal: AbortSignal | undefined): Promise<BuildOutcome<R>> {
    if (!job.id || !token || !signal) throw new UnrecoverableError('BullMQ gave the job without an id, token or signal');
    let data: BuildJobData;
    try {
      data = checkBuildJobData(job.data);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    // Read the job again now that BullMQ tracks it (and would deliver a cancel): a cancel written
    // before that point is seen here, one written after arrives as an abort.
    const fresh = await this.queue.getJob(job.id);
    if (!fresh || fresh.data.cancelRequestedAt !== undefined || signal.aborted) throw new UnrecoverableError(CANCELLED);

    const tenant = data.tenant;
    const holder = `${job.id}:${token}`;
    await this.slots.park(tenant, job.id);
    if (!(await this.slots.acquire(tenant, holder, this.defaultTenantConcurrency))) {
      await job.moveToDelayed(Date.now() + this.parkDelayMs, token);
      this.emit({ kind: 'parked', jobId: job.id, tenant });
      throw new DelayedError();
    }
    await this.slots.unpark(tenant, job.id);

    const refresh = setInterval(() => {
      this.slots.refresh(tenant, holder).then(
        (held) => held || this.emit({ kind: 'slot-lost', jobId: job.id!, tenant }),
        (err: Error) => this.emit({ kind: 'error', message: err.message }),
      );
    }, Math.max(1, Math.floor(this.slots.leaseMs / 3)));
    const attempt = job.attemptsStarted;
    this.emit({ kind: 'started', jobId: job.id, tenant, attempt });
    let ok = false;
    try {
      const value = await this.processor(
        {
          id: job.id,
          data,
          attempt,
          resumed: attempt > 1,
          reportProgress: (p) => job.updateProgress(p),
        },
        signal,
      );
      if (signal.aborted) throw new UnrecoverableError(CANCELLED);
      ok = true;
      return { value, finishedBy: this.name, attempt };
    } catch (err) {
      // A cancelled build is not retried, whatever the processor threw when it stopped.
      if (signal.aborted) throw new UnrecoverableError(CANCELLED);
      throw err;
    } finally {
      clearInterval(refresh);
      await this.slots.release(tenant, holder);
      this.emit({ kind: 'finished', jobId: job.id, tenant, ok });
      await this.wakeParked(tenant);
    }
  }

  /** Puts the tenant's parked jobs back in line now that a slot is free; they compete for it again. */
  private async wakeParked(tenant: string): Promise<void> {
    for (const id of await this.slots.takeParked(tenant)) {
      const job = await this.queue.getJob(id);
      // Not delayed (any more) is fine: it is running or about to be parked again.
      await job?.promote().catch(() => {});
    }
  }

  /** Stops taking builds and waits for the running ones (as a coordinator does on SIGTERM). */
  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all([this.queue.close(), this.events.close()]);
    this.redis.disconnect();
  }
}
