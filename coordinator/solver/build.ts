import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileLeases } from '../../cache/file-leases.js';
import { FsBlobStore } from '../../cache/fs-blob-store.js';
import { FsCacheIndex } from '../../cache/fs-cache-index.js';
import { FsExplainStore } from '../../cache/fs-explain-store.js';
import type { Lease } from '../../cache/lease.js';
import type { Descriptor } from '../../oci/manifest.js';
import { settleLayers } from '../../worker/layer.js';
import { LocalWorker } from '../../worker/local-worker.js';
import { SnapshotStore } from '../../worker/snapshots/snapshot-store.js';
import type { StepKey } from '../../worker/step.js';
import type { SecretSource } from '../../worker/worker.js';
import { assembleImage, assembleIndex, type BuiltImage } from '../export/image-assembler.js';
import { exportOutputs } from '../export/exporters.js';
import type { OutputSpec } from '../export/output-spec.js';
import type { BuildPlan, PlanOptions } from '../plan/plan-types.js';
import { planBuild } from '../plan/planner.js';
import { enforceCacheLimit } from './cache-maintenance.js';
import { ImageSources, LayoutImageProvider } from './image-provider.js';
import { Registries, RegistryImages, registrySettings } from '../registry/registry-images.js';
import type { Progress } from './progress.js';
import { MissExplainer } from './miss-explainer.js';
import { Solver, type CacheMiss } from './solver.js';
import { UrlFetcher } from './url-fetcher.js';
import { GitSources } from './git-sources.js';
import { urlFileName } from '../plan/stage-lowering.js';
import { contextFileMap } from '../context/selection.js';

export interface BuildRequest {
  plan: PlanOptions;
  cacheDir: string;
  outputs: OutputSpec[];
  tags: string[];
  progress: Progress;
  noCache: boolean;
  /** Stage names whose steps ignore the cache. */
  noCacheFilter: string[];
  secrets: SecretSource;
  iidfile?: string;
  metadataFile?: string;
  maxParallelism?: number;
  signal?: AbortSignal;
}

export interface BuildResult {
  plan: BuildPlan;
  images: BuiltImage[];
  /** The manifest of a single-platform build, the index of a multi-platform one. */
  top: Descriptor;
  misses: CacheMiss[];
}

/** Plans, executes and exports one build on this machine, with the embedded cache. */
export async function build(req: BuildRequest): Promise<BuildResult> {
  // Everything this build reads from or adds to the cache is leased until it ends (or dies).
  const lease = await new FileLeases(req.cacheDir).create();
  try {
    return await buildLeased(req, lease);
  } finally {
    await lease.release();
    await enforceCacheLimit(req.cacheDir);
  }
}

async function buildLeased(req: BuildRequest, lease: Lease): Promise<BuildResult> {
  const blobs = new FsBlobStore(req.cacheDir, lease);
  // This build's own scratch space; the snapshot store removes what a killed build left there.
  const scratch = join(req.cacheDir, 'tmp');
  const fetcher = new UrlFetcher(blobs);
  const gitSources = new GitSources(scratch);
  const { insecure, mirrors } = registrySettings();
  const registries = new Registries({ insecure });
  const registryImages = new RegistryImages(registries, blobs, mirrors);
  const plan = await planBuild({ resolver: registryImages, ...req.plan, fetchUrl: (url, checksum) => fetcher.fetch(url, checksum), resolveGit: (ref) => gitSources.resolve(ref) });
  const index = new FsCacheIndex(req.cacheDir);
  const snapshots = new SnapshotStore(req.cacheDir, blobs, lease);
  await snapshots.cleanStale();
  const abort = (): void => void snapshots.releaseAll();
  req.signal?.addEventListener('abort', abort, { once: true });

  const skipped = new Set<StepKey>();
  if (req.noCacheFilter.length > 0) {
    const names = new Set(req.noCacheFilter.map((n) => n.toLowerCase()));
    for (const t of plan.targets) for (const s of t.stages) if (names.has(s.name ?? String(s.index))) for (const e of s.entries) if (e.step) skipped.add(e.step);
  }
  const tempDirs: string[] = [];
  // The same opener as planning: each context is walked once and planned and built from one view.
  const contextOf = req.plan.context;
  const stepsByKey = new Map(plan.steps.map((s) => [s.key, s]));
  const explainer = new MissExplainer(
    new FsExplainStore(req.cacheDir),
    plan,
    (key) => {
      const step = stepsByKey.get(key);
      return step ? solver.describe(step).name : key;
    },
    (step) => (step.kind === 'source' && step.source.type === 'context' ? contextFileMap(contextOf(step.source.name), step.source.include, step.source.exclude) : {}),
  );
  const solver: Solver = new Solver({
    plan,
    worker: new LocalWorker(blobs, snapshots, req.cacheDir),
    blobs,
    index,
    lease,
    images: new ImageSources(new LayoutImageProvider(blobs, req.plan.namedContexts ?? new Map()), registryImages),
    downloaded: async (url, digest) => {
      if (!digest) throw new Error(`ADD ${url} was not downloaded`);
      const dir = await mkdtemp(join(scratch, 'url-'));
      tempDirs.push(dir);
      const name = urlFileName(url);
      // A copy, not a link: the file gets BuildKit's 0600 mode, which must not reach the stored blob.
      await pipeline(blobs.stream(digest), createWriteStream(join(dir, name), { mode: 0o600 }));
      await chmod(join(dir, name), 0o600);
      return { dir, name };
    },
    gitCheckout: (source) => gitSources.checkout(source),
    localContext: (name) => {
      const ctx = contextOf(name);
      return { dir: ctx.root, allowed: new Set(ctx.entries().keys()) };
    },
    explainer,
    progress: req.progress,
    secrets: req.secrets,
    ...(plan.sourceDateEpoch !== undefined ? { epoch: plan.sourceDateEpoch } : {}),
    skipCache: (key) => req.noCache || skipped.has(key),
    ...(req.maxParallelism !== undefined ? { maxParallelism: req.maxParallelism } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
  });

  try {
    const images: BuiltImage[] = [];
    for (const target of plan.targets) {
      const solved = target.result === null ? undefined : await solver.solve(target.result);
      const layers = await settleLayers(solved && solved.input.type === 'rootfs' ? solved.input.layers : []);
      const empty = new Set<StepKey>();
      for (const key of target.historySteps) if (key && (await solver.solve(key)).emptyLayer) empty.add(key);
      images.push(await assembleImage(target, layers, empty, blobs, plan.sourceDateEpoch !== undefined ? { epoch: plan.sourceDateEpoch } : {}));
    }
    await solver.flush();
    const top = images.length === 1 ? images[0]!.manifest : await assembleIndex(images, blobs);
    await exportOutputs(req.outputs, { images, top, tags: req.tags, blobs, snapshots, progress: req.progress, registries });
    if (req.iidfile) await writeFile(req.iidfile, images.length === 1 ? images[0]!.config.digest : top.digest);
    if (req.metadataFile) {
      const { platform: _p, ...descriptor } = top;
      const meta: Record<string, unknown> = {
        'containerimage.digest': top.digest,
        'containerimage.descriptor': descriptor,
        ...(images.length === 1 ? { 'containerimage.config.digest': images[0]!.config.digest } : {}),
        ...(req.tags.length ? { 'image.name': req.tags.join(',') } : {}),
        'dockyard.cache-misses': solver.misses,
      };
      await writeFile(req.metadataFile, JSON.stringify(meta, null, 2) + '\n');
    }
    return { plan, images, top, misses: solver.misses };
  } finally {
    req.signal?.removeEventListener('abort', abort);
    await snapshots.releaseAll();
    for (const d of tempDirs) await rm(d, { recursive: true, force: true });
    await gitSources.cleanup();
  }
}
