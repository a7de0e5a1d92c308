import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { putFile, type BlobStore } from '../../cache/blob-store.js';
import type { Lease } from '../../cache/lease.js';
import type { Digest } from '../../oci/digest.js';
import { hostPlatform, type Platform } from '../../oci/platform.js';
import type { BuildResult as BuildResultMessage } from '../../proto/generated/dockyard/v1/BuildResult.js';
import type { SecretSource } from '../../worker/worker.js';
import type { Signer } from '../../oci/signing/signer.js';
import { ExpectedError } from '../../oci/expected-error.js';
import type { BuildContext } from '../context/build-context.js';
import type { NamedContext } from '../context/named-contexts.js';
import type { OutputSpec } from '../export/output-spec.js';
import type { BuildProcessor } from '../queue/build-queue-worker.js';
import type { QueuedAttest, BuildRequest as QueuedRequest } from '../queue/build-job.js';
import { CANCELLED } from '../queue/build-status.js';
import { runBuild, type AttestRequest, type BuildEngine, type BuildStores, type WorkerSession } from '../solver/build.js';
import type { BuildEventLog, StoredOutput } from './build-events.js';
import { failureMessage, resultMessage } from './build-outcome.js';
import type { JsonLog } from './log.js';
import type { FarmMetrics } from './metrics.js';
import { PublishedProgress } from './published-progress.js';
import { trace } from '../../oci/trace.js';
import { materialiseLayout, openUploadedContext, readContextManifest, type ContextManifest } from './uploaded-context.js';
import type { TreeEntry } from '../../worker/contract/step-io.js';
import type { KnownTrees } from './remote-workers.js';

/** Steps of one farm build in flight at once when the client sets no --max-parallelism. */
const FARM_PARALLELISM = 256;

/** What a coordinator processes queued builds with. */
export interface FarmBuildDeps {
  /** The shared cache: the coordinator's store, the Redis index, explanations and leases. */
  stores: BuildStores;
  /** The coordinator's own scratch directory. */
  scratchDir: string;
  /**
   * The worker of one build: the farm's `RemoteWorkers` over `blobs` (the store under the build's
   * lease), building the inputs of the build's uploaded contexts from `knownTrees`.
   */
  openWorker(lease: Lease, blobs: BlobStore, knownTrees: KnownTrees): Promise<WorkerSession>;
  events: BuildEventLog;
  /** Secret values for a build, asked of its client when attached to this coordinator. */
  secrets(buildId: string, allowed: ReadonlySet<string>): SecretSource;
  log: JsonLog;
  metrics?: FarmMetrics;
  /** The platform the build runs on when it names none; default this host's. */
  buildPlatform?: Platform;
  /** `dockyard-<version>`: the creator an SBOM names. */
  tool: string;
  /** The farm's signing key (`--sign-key`), for builds that ask for `--sign`; only coordinators hold it. */
  signer?: Signer;
}

/** The queued `--provenance`/`--sbom` as the solver takes them: the client resolved the builder id. */
function farmAttest(a: QueuedAttest, tool: string): AttestRequest {
  return {
    options: { ...(a.provenance ? { provenance: { mode: a.provenance.mode, builderId: a.provenance.builderId } } : {}), sbom: a.sbom },
    dockerfilePath: a.dockerfilePath,
    tool,
    defaultBuilderId: a.provenance?.builderId ?? '',
  };
}

/** What a finished build's job returns (kept by BullMQ: small, and no secret). */
export interface FarmBuildValue {
  top: string;
  result: BuildResultMessage;
}

/** A planned output written where the client cannot be: to a file of the build's work directory, then into the store. */
function farmOutputs(outputs: OutputSpec[], work: string): { specs: OutputSpec[]; files: { index: number; path: string }[] } {
  const specs: OutputSpec[] = [];
  const files: { index: number; path: string }[] = [];
  outputs.forEach((o, index) => {
    const path = join(work, `output-${index}`);
    if (o.type === 'image') specs.push(o);
    // The client unpacks an OCI directory and a local output from the tar it receives.
    else if (o.type === 'oci') specs.push({ type: 'oci', dest: path, tar: true });
    else if (o.type === 'docker') specs.push({ type: 'docker', dest: path });
    else specs.push({ type: 'tar', dest: path });
    if (o.type !== 'image') files.push({ index, path });
  });
  return { specs, files };
}

/**
 * The uploaded contexts of a queued build: the planner's context opener, the named contexts, and the
 * entries of each local one by the directory its BuildContext names (none is written there; an OCI
 * layout is, into `work`).
 */
async function openContexts(store: BlobStore, req: QueuedRequest, work: string): Promise<{ open: (name: string) => BuildContext; named: Map<string, NamedContext>; trees: KnownTrees }> {
  const opened = new Map<string, BuildContext>();
  const named = new Map<string, NamedContext>();
  const trees = new Map<string, Map<string, TreeEntry>>();
  const openLocal = async (m: Extract<ContextManifest, { kind: 'local' }>, dir: string): Promise<BuildContext> => {
    const { ctx, tree } = await openUploadedContext(store, m, dir);
    trees.set(dir, tree);
    return ctx;
  };
  const main = await readContextManifest(store, req.context.digest as Digest);
  if (main.kind !== 'local') throw new Error('the build context must be a local context');
  const mainCtx = await openLocal(main, join(work, 'context'));
  let n = 0;
  for (const c of req.namedContexts) {
    if (c.type === 'docker-image') {
      named.set(c.name, { name: c.name, type: 'docker-image', ref: c.ref });
      continue;
    }
    const m = await readContextManifest(store, c.digest as Digest);
    const dir = join(work, `named-${n++}`);
    if (m.kind === 'local') {
      opened.set(c.name, await openLocal(m, dir));
      named.set(c.name, { name: c.name, type: 'local', dir });
    } else {
      await materialiseLayout(store, m, dir);
      named.set(c.name, { name: c.name, type: 'oci-layout', dir, ...(m.tag ? { tag: m.tag } : {}), ...(m.digest ? { digest: m.digest } : {}) });
    }
  }
  return { open: (name) => opened.get(name) ?? mainCtx, named, trees };
}

/**
 * Runs one queued build on this coordinator: open its uploaded contexts, plan, solve on the
 * farm's workers against the shared cache, export, push, and publish progress, outputs (as blobs in the
 * store) and the end to the build's event stream. Restartable: a build taken over after its
 * coordinator died starts again from the top, and its finished steps are cache hits.
 */
export function farmBuildProcessor(deps: FarmBuildDeps): BuildProcessor<FarmBuildValue> {
  return async (build, signal) => {
    const req = build.data.request;
    const log = deps.log.child({ build: build.id, attempt: build.attempt });
    await deps.events.append(build.id, { kind: 'attempt', attempt: build.attempt });
    log.info(build.resumed ? 'build resumed' : 'build started', { tenant: build.data.tenant });
    trace(`farm: build ${build.id} started`);
    await mkdir(deps.scratchDir, { recursive: true });
    const work = await mkdtemp(join(deps.scratchDir, 'build-'));
    const progress = new PublishedProgress((e) => deps.events.append(build.id, { kind: 'progress', progress: e }), deps.metrics);
    let stepsDone = 0;
    const report = progress.done.bind(progress);
    progress.done = (id) => {
      report(id);
      void build.reportProgress({ stepsDone: ++stepsDone, stepsTotal: 0 }).catch(() => undefined);
    };
    try {
      const signer = req.sign ? deps.signer : undefined;
      if (req.sign && !signer) throw new ExpectedError('--sign: this farm has no signing key; start its coordinators with --sign-key KEY (a cosign key file, its password in COSIGN_PASSWORD)');
      const { open, named, trees } = await openContexts(deps.stores.blobs, req, work);
      const { specs, files } = farmOutputs(req.outputs, work);
      const engine: BuildEngine = {
        stores: deps.stores,
        scratchDir: join(work, 'tmp'),
        openWorker: (lease, blobs) => deps.openWorker(lease, blobs, trees),
      };
      const result = await runBuild(
        {
          plan: {
            dockerfileName: req.dockerfileName,
            dockerfileText: req.dockerfileText,
            context: open,
            buildArgs: new Map(Object.entries(req.buildArgs)),
            ...(req.target !== undefined ? { target: req.target } : {}),
            platforms: req.platforms,
            buildPlatform: deps.buildPlatform ?? hostPlatform(),
            labels: new Map(Object.entries(req.labels)),
            secretIds: new Set(req.secretIds),
            namedContexts: named,
          },
          outputs: specs,
          tags: req.tags,
          progress,
          noCache: req.noCache,
          noCacheFilter: req.noCacheFilter,
          ...(req.cacheFrom ? { cacheFrom: req.cacheFrom } : {}),
          ...(req.cacheTo ? { cacheTo: req.cacheTo } : {}),
          secrets: deps.secrets(build.id, new Set(req.secretIds)),
          // The workers' slots bound the steps that run at once, not this coordinator's CPUs.
          maxParallelism: req.maxParallelism ?? FARM_PARALLELISM,
          signal,
          ...(req.attest ? { attest: { ...farmAttest(req.attest, deps.tool), ...(signer ? { signer } : {}) } } : {}),
          ...(req.sign && signer ? { sign: { formats: req.sign.formats, signer } } : {}),
        },
        engine,
      );
      const stored: StoredOutput[] = [];
      for (const f of files) {
        const info = await putFile(deps.stores.blobs, f.path);
        stored.push({ index: f.index, digest: info.digest, size: info.size });
      }
      await progress.flushed();
      const message = resultMessage(result);
      // Outputs and end in two records: a client reads both or, if this coordinator dies between them, the next attempt's.
      await deps.events.append(build.id, { kind: 'outputs', outputs: stored });
      await deps.events.append(build.id, { kind: 'end', end: { result: message } });
      deps.metrics?.buildsFinished.inc({ outcome: 'succeeded' });
      log.info('build succeeded', { digest: result.top.digest });
      return { top: result.top.digest, result: message };
    } catch (err) {
      const failure = failureMessage(err, signal.aborted);
      await progress.flushed().catch(() => undefined);
      await deps.events.append(build.id, { kind: 'end', end: { failure } });
      deps.metrics?.buildsFinished.inc({ outcome: signal.aborted ? 'cancelled' : 'failed' });
      log.warn(signal.aborted ? 'build cancelled' : 'build failed', { kind: failure.kind, error: failure.failure?.message });
      // The failure is the build's, not this coordinator's: another attempt would fail the same way.
      throw new UnrecoverableError(signal.aborted ? CANCELLED : (failure.failure?.message ?? 'build failed'));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
}
