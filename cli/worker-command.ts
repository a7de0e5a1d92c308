import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../cache/cache-dir.js';
import { gcGraceMs } from '../coordinator/solver/cache-maintenance.js';
import { parseSize } from '../cache/gc.js';
import { ExpectedError } from '../oci/expected-error.js';
import { readToken } from '../proto/auth.js';
import { channelCredentials } from '../proto/transport.js';
import { tlsFiles } from './farm-client-flags.js';
import { version } from './version.js';
import { formatPlatform, hostPlatform, parsePlatformList } from '../oci/platform.js';
import { WorkerAgent } from '../worker/remote/agent.js';
import { callFailure } from '../worker/remote/coordinator-link.js';
import { LocalCache } from '../worker/remote/local-cache.js';
import { emulatedPlatforms } from '../worker/system/binfmt.js';
import { parseCommandArgs, UsageError } from './errors.js';
import { preloadModules } from '../oci/lazy-modules.js';

export const workerHelp = `Usage: dockyard worker --coordinator HOST:PORT [OPTIONS]

Run build steps for one or more coordinators (a farm worker). Prints "registered as WORKER-ID" when
ready; on SIGTERM it takes no more work, finishes its running steps and exits.

Options:
      --coordinator HOST:PORT  Coordinator to serve (repeatable or comma-separated; slots are shared)
      --cache-dir DIR          Local snapshot and blob cache (default: $DOCKYARD_CACHE_DIR/worker)
      --cache-max-size SIZE    Bound of the local cache, least recently used removed first
                               (default: $DOCKYARD_WORKER_CACHE_MAX_SIZE or 20GB)
      --slots N                Steps run at once (default: the number of CPUs)
      --platforms LIST         Platforms offered, native first (default: this machine's, then those
                               QEMU can emulate)
      --labels k=v,...         Labels for scheduling
      --id ID                  Worker id (default: host name and a hash of the cache directory)
      --token-file F           Shared token (default: $DOCKYARD_TOKEN)
      --tls-ca F               CA certificate of the coordinator (enables TLS)
      --tls-cert F             Client certificate (mTLS)
      --tls-key F              Client key (mTLS)
`;

const options = {
  coordinator: { type: 'string', multiple: true },
  'cache-dir': { type: 'string' },
  'cache-max-size': { type: 'string' },
  slots: { type: 'string' },
  platforms: { type: 'string' },
  labels: { type: 'string' },
  id: { type: 'string' },
  'token-file': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of (text ?? '').split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--labels: expected k=v, got ${JSON.stringify(item)}`);
    labels[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return labels;
}

/** Native platforms first: what the coordinator schedules natively; the rest it treats as emulated. */
function platformsOf(flag: string | undefined): { native: string[]; emulated: string[] } {
  const host = formatPlatform(hostPlatform());
  if (flag === undefined) return { native: [host], emulated: emulatedPlatforms() };
  let list: string[];
  try {
    list = parsePlatformList(flag).map(formatPlatform);
  } catch (err) {
    throw new UsageError(`--platforms: ${(err as Error).message}`);
  }
  if (list.length === 0) throw new UsageError('--platforms: no platform given');
  return { native: list.filter((p) => p === host), emulated: list.filter((p) => p !== host) };
}

export async function workerCommand(argv: string[], out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseCommandArgs('worker', { args: argv, options, strict: true, allowPositionals: false });
  if (values.help) return out.write(workerHelp), 0;
  const coordinators = (values.coordinator ?? []).flatMap((c) => c.split(',')).map((c) => c.trim()).filter((c) => c !== '');
  if (coordinators.length === 0) throw new UsageError(`--coordinator HOST:PORT is required. See 'dockyard worker --help'`);
  for (const c of coordinators) if (!/^[^\s:]+:\d+$|^\[[0-9a-f:]+\]:\d+$/i.test(c)) throw new UsageError(`--coordinator: expected HOST:PORT, got ${JSON.stringify(c)}`);
  const slots = values.slots === undefined ? availableParallelism() : Number(values.slots);
  if (!Number.isInteger(slots) || slots < 1) throw new UsageError(`--slots: expected a positive integer, got ${JSON.stringify(values.slots)}`);
  let maxBytes: number;
  try {
    maxBytes = parseSize(values['cache-max-size'] ?? env.DOCKYARD_WORKER_CACHE_MAX_SIZE ?? '20GB');
  } catch (err) {
    throw new UsageError(`${values['cache-max-size'] !== undefined ? '--cache-max-size' : 'DOCKYARD_WORKER_CACHE_MAX_SIZE'}: ${(err as Error).message}`);
  }
  const cacheDir = values['cache-dir'] ? resolve(values['cache-dir']) : join(defaultCacheDir(env), 'worker');
  mkdirSync(cacheDir, { recursive: true });
  const platforms = platformsOf(values.platforms);
  const id = values.id ?? `${hostname()}-${createHash('sha256').update(cacheDir).digest('hex').slice(0, 8)}`;
  const token = readToken({ ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}), env });
  const tls = tlsFiles(values);
  // Bad TLS files fail here, as one line naming the flag, rather than at the first call.
  channelCredentials(tls);
  const dial = { ...(token !== undefined ? { token } : {}), tls };

  const agent = new WorkerAgent({
    id,
    coordinators,
    dial,
    slots,
    nativePlatforms: platforms.native,
    emulatedPlatforms: platforms.emulated,
    labels: parseLabels(values.labels),
    version: version(),
    cache: new LocalCache(cacheDir, maxBytes, gcGraceMs(env)),
    scratchDir: join(cacheDir, 'tmp'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  let drained: Promise<void> | undefined;
  const stop = new Promise<void>((resolveStop) => {
    const onSignal = (): void => {
      drained ??= agent.drain().then(resolveStop);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  try {
    await preloadModules();
    await agent.start();
  } catch (err) {
    // SIGTERM before the worker was ready: a clean stop, not a failure.
    if (drained) return await drained.then(() => 0);
    await agent.close();
    if (err instanceof ExpectedError) throw err;
    throw new ExpectedError(`cannot register with the coordinator: ${callFailure(err)}`);
  }
  out.write(`registered as ${id}\n`);
  await stop;
  return 0;
}
