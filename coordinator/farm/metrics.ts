import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ExpectedError } from '../../oci/expected-error.js';

/** A bad listen address. */
export class AddressError extends ExpectedError {}

/**
 * The coordinator's Prometheus metrics. Labels carry only states, kinds and worker ids: never a build
 * argument, a tag or a secret. Gauges that reflect shared state (queue depth) are refreshed by
 * `collect` hooks when scraped.
 */
/** The queue's states as `dockyard_builds` labels them. */
const BUILD_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'];

/** The last warm run of a warm-up entry (`dockyard coordinator --warm`). */
export interface WarmRunStatus {
  entry: string;
  warm: number;
  built: number;
  total: number;
  /** When it ended (ms since the epoch). */
  warmedAt: number;
}

/** One call of `read` per scrape, shared by the gauges that show its result. */
function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= read().finally(() => setTimeout(() => (pending = undefined), 0)));
}

export class FarmMetrics {
  readonly registry = new Registry();
  readonly queueDepth: Gauge;
  readonly builds: Gauge;
  readonly buildsFinished: Counter;
  readonly stepDuration: Histogram;
  readonly cacheLookups: Counter;
  readonly cacheHitRatio: Gauge;
  readonly bytesMoved: Counter;
  readonly busySlots: Gauge;
  readonly totalSlots: Gauge;
  readonly warmCoverage: Gauge;
  readonly warmSteps: Gauge;
  readonly warmLast: Gauge;
  readonly warmRuns: Counter;
  private hits = 0;
  private lookups = 0;

  constructor(sources: { queueCounts?: () => Promise<Record<string, number>>; slots?: () => { busy: number; total: number }; warmStatus?: () => Promise<WarmRunStatus[]> } = {}) {
    const registers = [this.registry];
    // One read of the queue per scrape, shared by the two gauges that show it.
    let counts: Promise<Record<string, number>> | undefined;
    const queueCounts = (): Promise<Record<string, number>> => {
      counts ??= (sources.queueCounts ?? (async () => ({})))().finally(() => setTimeout(() => (counts = undefined), 0));
      return counts;
    };
    this.queueDepth = new Gauge({
      name: 'dockyard_queue_depth',
      help: 'Builds waiting in the queue (all coordinators).',
      registers,
      collect: async () => {
        const c = await queueCounts();
        this.queueDepth.set((c['waiting'] ?? 0) + (c['delayed'] ?? 0));
      },
    });
    this.builds = new Gauge({
      name: 'dockyard_builds',
      help: 'Builds in the queue by state (all coordinators; finished ones while they are kept).',
      labelNames: ['state'],
      registers,
      collect: async () => {
        const c = await queueCounts();
        for (const state of BUILD_STATES) this.builds.set({ state }, c[state] ?? 0);
      },
    });
    this.buildsFinished = new Counter({ name: 'dockyard_builds_finished_total', help: 'Builds this coordinator finished, by outcome.', labelNames: ['outcome'], registers });
    this.stepDuration = new Histogram({ name: 'dockyard_step_duration_seconds', help: 'Duration of steps this coordinator ran, by outcome (built, cached, failed).', labelNames: ['outcome'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900], registers });
    this.cacheLookups = new Counter({ name: 'dockyard_cache_lookups_total', help: 'Cache lookups of steps, by result (hit, miss).', labelNames: ['result'], registers });
    this.cacheHitRatio = new Gauge({ name: 'dockyard_cache_hit_ratio', help: 'Cache hits over lookups since this coordinator started.', registers, collect: () => this.cacheHitRatio.set(this.lookups === 0 ? 0 : this.hits / this.lookups) });
    this.bytesMoved = new Counter({ name: 'dockyard_bytes_moved_total', help: 'Bytes the coordinator moved, by direction (upload: into the store, download: out of it, output: to clients).', labelNames: ['direction'], registers });
    this.busySlots = new Gauge({ name: 'dockyard_worker_slots_busy', help: 'Worker slots running a step.', registers, collect: () => sources.slots && this.busySlots.set(sources.slots().busy) });
    this.totalSlots = new Gauge({ name: 'dockyard_worker_slots', help: 'Worker slots of connected workers.', registers, collect: () => sources.slots && this.totalSlots.set(sources.slots().total) });
    // Shared by every coordinator (the status is in Redis); an entry removed from the file disappears.
    const warmStatus = perScrape(sources.warmStatus ?? (async () => []));
    const warmGauge = (gauge: () => Gauge, set: (g: Gauge, s: WarmRunStatus) => void) => async (): Promise<void> => {
      const all = await warmStatus();
      gauge().reset();
      for (const s of all) set(gauge(), s);
    };
    this.warmCoverage = new Gauge({
      name: 'dockyard_warm_coverage_ratio',
      help: 'Steps of the last warm run of each warm-up entry that were already in the cache, over its steps.',
      labelNames: ['entry'],
      registers,
      collect: warmGauge(() => this.warmCoverage, (g, s) => g.set({ entry: s.entry }, s.total === 0 ? 1 : s.warm / s.total)),
    });
    this.warmSteps = new Gauge({
      name: 'dockyard_warm_steps',
      help: 'Steps of the last warm run of each warm-up entry, by state (warm: in the cache already, built).',
      labelNames: ['entry', 'state'],
      registers,
      collect: warmGauge(() => this.warmSteps, (g, s) => {
        g.set({ entry: s.entry, state: 'warm' }, s.warm);
        g.set({ entry: s.entry, state: 'built' }, s.built);
      }),
    });
    this.warmLast = new Gauge({
      name: 'dockyard_warm_last_success_timestamp_seconds',
      help: 'When the last warm run of each warm-up entry ended (Unix time).',
      labelNames: ['entry'],
      registers,
      collect: warmGauge(() => this.warmLast, (g, s) => g.set({ entry: s.entry }, Math.floor(s.warmedAt / 1000))),
    });
    this.warmRuns = new Counter({ name: 'dockyard_warm_runs_total', help: 'Warm runs this coordinator took from the schedulers, by entry and outcome (warmed, skipped: the last one still ran, failed).', labelNames: ['entry', 'outcome'], registers });
    for (const result of ['hit', 'miss']) this.cacheLookups.inc({ result }, 0);
    for (const direction of ['upload', 'download', 'output']) this.bytesMoved.inc({ direction }, 0);
  }

  /** A step ended: `cached` when the cache had it. */
  step(outcome: 'built' | 'cached' | 'failed', seconds: number): void {
    this.stepDuration.observe({ outcome }, seconds);
    if (outcome === 'failed') return;
    this.lookups++;
    if (outcome === 'cached') this.hits++;
    this.cacheLookups.inc({ result: outcome === 'cached' ? 'hit' : 'miss' });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves `/metrics` on `listen` (HOST:PORT); resolves with the real address. */
  async serve(listen: string): Promise<{ address: string; close(): Promise<void> }> {
    const { host, port } = splitHostPort(listen, '--metrics');
    const server: Server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('not found: try /metrics\n');
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as { port: number };
    return { address: `${host}:${addr.port}`, close: () => new Promise((r) => server.close(() => r())) };
  }
}

/** `HOST:PORT` (IPv6 in brackets) split, or a one-line error naming the flag. */
export function splitHostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new AddressError(`invalid ${flag} ${JSON.stringify(text)}: expected HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
