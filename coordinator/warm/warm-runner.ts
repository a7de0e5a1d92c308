import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { BlobStore } from '../../cache/blob-store.js';
import { parsePlatform } from '../../oci/platform.js';
import { BuildContext } from '../context/build-context.js';
import type { BuildEventLog } from '../farm/build-events.js';
import type { JsonLog } from '../farm/log.js';
import type { FarmMetrics } from '../farm/metrics.js';
import { storeLocalContext } from '../farm/uploaded-context.js';
import { MAX_PRIORITY, type BuildRequest } from '../queue/build-job.js';
import type { BuildQueue } from '../queue/build-queue.js';
import { checkPrefix, connectRedis, redisOptions, type RedisTarget } from '../queue/redis-connection.js';
import { eventCoverage, type Coverage } from './step-tally.js';
import { entryTargets, openWarmContext } from './warm-context.js';
import type { WarmEntry } from './warm-file.js';
import { WARM_QUEUE_NAME, type WarmJobData } from './warm-schedules.js';
import type { WarmStatusStore } from './warm-status.js';

/** The tenant of warm builds: its slot limit bounds how many run at once, beside the users' builds. */
export const WARM_TENANT = 'warm';

export type WarmOutcome =
  /** The entry's previous warm build (`running`) has not finished: this firing does nothing. */
  | { kind: 'skipped'; running: string }
  | { kind: 'warmed'; coverage: Coverage; builds: string[] };

export interface WarmRunnerDeps extends RedisTarget {
  /** This coordinator's name, recorded on the warm jobs it takes. */
  name: string;
  queue: BuildQueue;
  /** The farm's store: the entry's context goes there, as a client's upload would. */
  store: BlobStore;
  events: BuildEventLog;
  status: WarmStatusStore;
  scratchDir: string;
  log: JsonLog;
  metrics?: FarmMetrics;
}

const add = (a: Coverage, b: Coverage): Coverage => ({ warm: a.warm + b.warm, built: a.built + b.built, total: a.total + b.total });

/**
 * Runs what the warm-up schedulers fire: for each firing, the entry's context as it is now goes into
 * the store, and each of its targets is queued as a cache-only build (no output, no push) at the lowest
 * priority, so any user build waiting goes first. A firing while the entry's previous warm build has
 * not finished is skipped. The run's coverage and end time go to the shared warm status.
 */
export class WarmRunner {
  private readonly worker: Worker<WarmJobData, WarmOutcome>;
  /** Aborted by `close`: firings stop waiting for their builds (another coordinator takes them over). */
  private readonly closing = new AbortController();

  constructor(private readonly deps: WarmRunnerDeps) {
    this.worker = new Worker<WarmJobData, WarmOutcome>(WARM_QUEUE_NAME, (job) => this.process(job), {
      connection: redisOptions(deps.redisUrl),
      prefix: checkPrefix(deps.prefix),
      name: deps.name,
      // A firing mostly waits for its builds; one per entry at a time is what the skip allows anyway.
      concurrency: 64,
      autorun: false,
    });
    this.worker.on('error', (err) => deps.log.error('warm queue', { error: err.message }));
  }

  async start(): Promise<void> {
    void this.worker.run().catch((err: Error) => this.deps.log.error('warm queue', { error: err.message }));
    await this.worker.waitUntilReady();
  }

  private async process(job: Job<WarmJobData, WarmOutcome>): Promise<WarmOutcome> {
    const entry = job.data?.entry;
    if (typeof entry?.name !== 'string' || typeof entry.context !== 'object') throw new UnrecoverableError('a warm job without an entry');
    const log = this.deps.log.child({ entry: entry.name, job: job.id });
    try {
      const outcome = await this.run(entry);
      this.deps.metrics?.warmRuns.inc({ entry: entry.name, outcome: outcome.kind });
      if (outcome.kind === 'skipped') log.info('warm run skipped: the previous one is still running', { build: outcome.running });
      else log.info('warm run finished', { ...outcome.coverage, builds: outcome.builds.join(',') });
      return outcome;
    } catch (err) {
      this.deps.metrics?.warmRuns.inc({ entry: entry.name, outcome: 'failed' });
      log.warn('warm run failed', { error: (err as Error).message });
      throw new UnrecoverableError((err as Error).message);
    }
  }

  /** One warm run of `entry`. */
  async run(entry: WarmEntry): Promise<WarmOutcome> {
    const { queue, store, events, status } = this.deps;
    // One unfinished warm build per entry: BullMQ's deduplication id holds it.
    const dedup = `warm-${entry.name}`;
    const running = await queue.deduplicatedBy(dedup);
    if (running !== undefined) return { kind: 'skipped', running };
    await mkdir(this.deps.scratchDir, { recursive: true });
    const scratch = await mkdtemp(join(this.deps.scratchDir, 'warm-'));
    const ctx = await openWarmContext(entry, scratch).catch(async (err: unknown) => {
      await rm(scratch, { recursive: true, force: true });
      throw err;
    });
    try {
      const context = { digest: await storeLocalContext(store, BuildContext.open(ctx.dir, ctx.dockerfilePath)) };
      let coverage: Coverage = { warm: 0, built: 0, total: 0 };
      const builds: string[] = [];
      for (const target of entryTargets(entry)) {
        const request: BuildRequest = {
          dockerfileName: entry.dockerfile,
          dockerfileText: ctx.dockerfileText,
          context,
          namedContexts: [],
          tags: [],
          buildArgs: { ...entry.args },
          ...(target !== undefined ? { target } : {}),
          platforms: entry.platforms.map(parsePlatform),
          secretIds: [],
          labels: {},
          // Cache-only: nothing exported, nothing pushed.
          outputs: [],
          noCache: false,
          noCacheFilter: [],
        };
        const jobId = randomUUID();
        const id = await queue.enqueue(request, { tenant: WARM_TENANT, priority: MAX_PRIORITY, jobId, deduplicationId: dedup });
        if (id !== jobId) return { kind: 'skipped', running: id };
        builds.push(id);
        await this.finished(id);
        coverage = add(coverage, eventCoverage(await events.read(id)));
      }
      await status.record({ entry: entry.name, ...coverage, warmedAt: Date.now() });
      return { kind: 'warmed', coverage, builds };
    } finally {
      await ctx.close();
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Waits for the build's end: its end record (a cancel of a build that had not started writes one too)
   * or its job's failure (one that ended before it could write a record). Throws when it did not succeed.
   */
  private async finished(id: string): Promise<void> {
    const reader = connectRedis(this.deps.redisUrl);
    let stop = false;
    let onClose = (): void => {};
    try {
      const ended = (async () => {
        for await (const e of this.deps.events.follow(reader, id, () => stop)) {
          if (e.kind === 'end' && e.end.failure) throw new Error(`warm build ${id} failed: ${e.end.failure.failure?.message ?? e.end.failure.kind}`);
        }
      })();
      ended.catch(() => undefined);
      const closed = new Promise<never>((_, reject) => {
        onClose = () => reject(new Error('the coordinator is stopping'));
        if (this.closing.signal.aborted) onClose();
        this.closing.signal.addEventListener('abort', onClose, { once: true });
      });
      const done = this.deps.queue.waitUntilFinished(id);
      // Whichever loses the race may still settle, rejected: observed here, not left unhandled.
      done.catch(() => undefined);
      await Promise.race([ended, done, closed]);
    } finally {
      this.closing.signal.removeEventListener('abort', onClose);
      stop = true;
      reader.disconnect();
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    // Forced: a firing waiting for a queued build must not hold the coordinator's exit.
    await this.worker.close(true);
  }
}
