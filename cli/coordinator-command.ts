import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../cache/cache-dir.js';
import { RedisCacheIndex } from '../cache/redis-cache-index.js';
import { RedisExplainStore } from '../cache/redis-explain-store.js';
import { RedisLeases } from '../cache/redis-leases.js';
import { openBlobStore } from '../cache/store-location.js';
import { AttachedClients } from '../coordinator/farm/attached-clients.js';
import { SecretRelay } from '../coordinator/farm/secret-relay.js';
import { BuildEventLog } from '../coordinator/farm/build-events.js';
import { buildService } from '../coordinator/farm/build-service.js';
import { contentService } from '../coordinator/farm/content-service.js';
import { farmBuildProcessor } from '../coordinator/farm/farm-build.js';
import { JsonLog } from '../coordinator/farm/log.js';
import { FarmMetrics } from '../coordinator/farm/metrics.js';
import { RemoteWorkers } from '../coordinator/farm/remote-workers.js';
import { WorkerRegistry } from '../coordinator/farm/worker-registry.js';
import { workerService } from '../coordinator/farm/worker-service.js';
import { BuildQueue } from '../coordinator/queue/build-queue.js';
import { BuildQueueWorker } from '../coordinator/queue/build-queue-worker.js';
import { connectRedis, DEFAULT_PREFIX, redisOptions } from '../coordinator/queue/redis-connection.js';
import { StepLocks } from '../coordinator/queue/step-locks.js';
import { readToken } from '../proto/auth.js';
import { parseListen, startGrpcServer } from '../proto/transport.js';
import { WarmRunner } from '../coordinator/warm/warm-runner.js';
import { WarmSchedules } from '../coordinator/warm/warm-schedules.js';
import { WarmStatusStore } from '../coordinator/warm/warm-status.js';
import { parseWarmFile, type WarmEntry } from '../coordinator/warm/warm-file.js';
import { tlsFiles } from './farm-client-flags.js';
import { loadSigner } from './signing-commands.js';
import { parseCommandArgs, UsageError } from './errors.js';
import { version } from './version.js';
import { preloadModules } from '../oci/lazy-modules.js';

export const coordinatorHelp = `Usage: dockyard coordinator --listen HOST:PORT --redis redis://HOST:PORT [OPTIONS]

Run a build farm coordinator: it takes builds from clients (dockyard build --builder), queues them in
Redis, and runs their steps on the workers connected to it (dockyard worker). Several coordinators may
share one Redis and store. Prints "listening on HOST:PORT" when ready; exits on SIGTERM once its
running builds end (another coordinator takes over those of one that died).

Options:
      --listen HOST:PORT     Where clients and workers connect (port 0 picks a free one)
      --redis URL            Redis of the queue and the shared cache index (redis://HOST:PORT[/DB])
      --store DIR|registry://HOST/REPO
                             Where the farm's blobs live (default: CACHE-DIR/store)
      --cache-dir DIR        This coordinator's scratch space (default: $DOCKYARD_CACHE_DIR/coordinator)
      --metrics HOST:PORT    Serve Prometheus metrics at http://HOST:PORT/metrics
      --concurrency N        Builds this coordinator runs at once (default 4; 0: it runs none, it only
                             takes clients, as a front for the coordinators that do)
      --warm FILE            Warm the cache on schedules: each entry of the warm-up file (see 'dockyard warm')
                             becomes a job scheduler with its cron pattern, whose firings queue cache-only
                             builds at the lowest priority. SIGHUP reads the file again. Coordinators that
                             share Redis share the schedulers: give them the same file
      --advertise HOST:PORT  Where the other coordinators reach this one (default: the --listen address,
                             or this host's name with the port if it listens on every interface)
      --token-file F         Shared token clients and workers must present (default: $DOCKYARD_TOKEN)
      --tls-cert F           Server certificate (enables TLS)
      --tls-key F            Server key
      --tls-ca F             CA that client and worker certificates must chain to (mTLS)
      --sign-key F           cosign private key the farm signs with for builds run with --sign (its
                             password from COSIGN_PASSWORD); only coordinators hold it
  -h, --help                 Show this help
`;

const options = {
  listen: { type: 'string' },
  redis: { type: 'string' },
  store: { type: 'string' },
  'cache-dir': { type: 'string' },
  metrics: { type: 'string' },
  concurrency: { type: 'string' },
  warm: { type: 'string' },
  'token-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  advertise: { type: 'string' },
  'sign-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The address peers reach this coordinator at: the one it listens on, or this host's name if that is every interface. */
function advertised(listening: string): string {
  const { host, port } = parseListen(listening);
  return host === '0.0.0.0' || host === '::' ? `${hostname()}:${port}` : listening;
}

/** `dockyard coordinator`. Resolves with the exit code once SIGTERM has closed it. */
export async function coordinatorCommand(argv: string[], out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseCommandArgs('coordinator', { args: argv, options, strict: true, allowPositionals: false });
  if (values.help) return out.write(coordinatorHelp), 0;
  if (!values.listen) throw new UsageError(`--listen HOST:PORT is required. See 'dockyard coordinator --help'`);
  if (!values.redis) throw new UsageError(`--redis redis://HOST:PORT is required. See 'dockyard coordinator --help'`);
  parseListen(values.listen);
  if (values.metrics) parseListen(values.metrics, '--metrics');
  if (values.advertise) parseListen(values.advertise, '--advertise');
  const redisUrl = values.redis;
  redisOptions(redisUrl);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (values['tls-ca'] && !values['tls-cert']) throw new UsageError('--tls-ca needs --tls-cert and --tls-key');
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 0) throw new UsageError(`invalid --concurrency ${values.concurrency}: expected a whole number, 0 or more`);
  const warmFile = values.warm;
  // A mistake in the file stops the start, as one line; on SIGHUP it is logged and the schedules stay.
  let warmEntries = warmFile !== undefined ? parseWarmFile(warmFile) : undefined;
  const tls = tlsFiles(values);
  // Opened now: a wrong password is a one-line error at start, not a failed build later.
  const signer = values['sign-key'] !== undefined ? await loadSigner(values['sign-key']) : undefined;
  const token = readToken({ ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}), env });
  const cacheDir = values['cache-dir'] ? resolve(values['cache-dir']) : join(defaultCacheDir(env), 'coordinator');
  const store = openBlobStore(values.store ?? join(cacheDir, 'store'), { scratchDir: join(cacheDir, 'tmp') });

  const name = `${hostname()}-${process.pid}`;
  const log = new JsonLog(process.stderr, { coordinator: name });
  const prefix = DEFAULT_PREFIX;
  const redis = connectRedis(redisUrl);
  redis.on('error', (err: Error) => log.error('redis', { error: err.message }));
  // BullMQ would wait for Redis forever: an address nothing answers on is a one-line error instead.
  const reached = await Promise.race([redis.ping().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
  if (!reached) {
    redis.disconnect();
    throw new UsageError(`cannot reach Redis at ${redisUrl} (--redis)`);
  }
  const registry = new WorkerRegistry();
  const queue = new BuildQueue({ redisUrl, prefix });
  const events = new BuildEventLog(redis, prefix);
  let listening!: (address: string) => void;
  const relay = new SecretRelay(redis, prefix, new Promise<string>((r) => (listening = r)), { ...(token !== undefined ? { token } : {}), tls });
  const clients = new AttachedClients(relay);
  const locks = new StepLocks(redis, { prefix });
  const index = new RedisCacheIndex(redis, { prefix });
  const warmStatus = new WarmStatusStore(redis, prefix);
  const metrics = new FarmMetrics({
    warmStatus: () => warmStatus.list(),
    queueCounts: async () => {
      const counts: Record<string, number> = {};
      for (const s of await queue.list()) counts[s.state] = (counts[s.state] ?? 0) + 1;
      return counts;
    },
    slots: () => {
      const workers = registry.list().filter((w) => w.connected);
      return { busy: workers.reduce((n, w) => n + w.running, 0), total: workers.reduce((n, w) => n + w.slots, 0) };
    },
  });
  const content = contentService(store, { spoolDir: join(cacheDir, 'uploads'), onTransfer: (t) => metrics.bytesMoved.inc({ direction: t.direction }, t.bytes) });
  const builds = concurrency === 0 ? undefined : new BuildQueueWorker(
    { redisUrl, prefix, name, concurrency, onEvent: (e) => (e.kind === 'error' ? log.error('queue', { error: e.message }) : log.info(`queue ${e.kind}`, { build: e.jobId, tenant: e.tenant })) },
    farmBuildProcessor({
      stores: { blobs: store, index, explanations: new RedisExplainStore(redis, { prefix }), leases: new RedisLeases(redis, { prefix }) },
      scratchDir: join(cacheDir, 'builds'),
      openWorker: async (_lease, blobs, knownTrees) => {
        const workers = new RemoteWorkers(registry, blobs, { dedupe: { locks, index }, knownTrees });
        return { worker: workers, abort: () => workers.close(), close: async () => workers.close() };
      },
      events,
      secrets: (id, allowed) => clients.secrets(id, allowed),
      log,
      metrics,
      tool: `dockyard-${version()}`,
      ...(signer ? { signer } : {}),
    }),
  );

  await preloadModules();
  const server = await startGrpcServer({
    listen: values.listen,
    tls,
    ...(token !== undefined ? { token } : {}),
    services: [content, workerService(registry), buildService({ queue, events, redis, store, clients, attachments: relay, log, metrics })],
  });
  listening(values.advertise ?? advertised(server.address));
  const metricsServer = values.metrics ? await metrics.serve(values.metrics) : undefined;
  await builds?.start();
  const warm = warmEntries === undefined ? undefined : await startWarm(warmEntries);
  log.info('coordinator ready', { address: server.address, ...(metricsServer ? { metrics: metricsServer.address } : {}) });
  if (token === undefined) log.warn('no token: every client and worker that reaches this address is accepted; set DOCKYARD_TOKEN or --token-file');
  out.write(`listening on ${server.address}\n`);

  async function startWarm(entries: WarmEntry[]): Promise<{ schedules: WarmSchedules; runner: WarmRunner }> {
    const schedules = new WarmSchedules({ redisUrl, prefix });
    const runner = new WarmRunner({ redisUrl, prefix, name, queue, store, events, status: warmStatus, scratchDir: join(cacheDir, 'warm'), log, metrics });
    await syncWarm(schedules, entries);
    await runner.start();
    return { schedules, runner };
  }
  async function syncWarm(schedules: WarmSchedules, entries: WarmEntry[]): Promise<void> {
    const { removed } = await schedules.sync(entries);
    await warmStatus.keepOnly(new Set(entries.map((e) => e.name)));
    log.info('warm-up schedules registered', { entries: entries.map((e) => e.name).join(','), removed: removed.join(',') });
  }
  // SIGHUP: the warm-up file again; entries deleted from it lose their schedulers.
  const reload = (): void => {
    if (!warm || warmFile === undefined) return;
    try {
      warmEntries = parseWarmFile(warmFile);
    } catch (err) {
      log.error('warm-up file not reloaded', { error: (err as Error).message });
      return;
    }
    syncWarm(warm.schedules, warmEntries).catch((err: Error) => log.error('warm-up schedules not registered', { error: err.message }));
  };
  process.on('SIGHUP', reload);

  await new Promise<void>((resolveStop) => {
    process.once('SIGTERM', resolveStop);
    process.once('SIGINT', resolveStop);
  });
  log.info('coordinator stopping');
  process.off('SIGHUP', reload);
  await warm?.runner.close();
  await warm?.schedules.close();
  await builds?.close();
  await server.close();
  await metricsServer?.close();
  registry.close();
  relay.close();
  locks.close();
  await queue.close();
  redis.disconnect();
  return 0;
}
