import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import type { CacheIndex } from '../../cache/cache-index.js';
import type { ExplainStore } from '../../cache/explain-store.js';
import type { Lease, LeaseManager } from '../../cache/lease.js';
import type { GzipMemberHints } from '../../worker/layers/gzip-member-hints.js';
import type { Descriptor } from '../../oci/manifest.js';
import type { Digest } from '../../oci/digest.js';
import { settleLayers } from '../../worker/layer.js';
import type { StepKey } from '../../worker/step.js';
import type { SecretSource, Worker } from '../../worker/worker.js';
import { assembleImage, assembleIndex, type BuiltImage } from '../export/image-assembler.js';
import { exportOutputs } from '../export/exporters.js';
import { pushedNames, type OutputSpec } from '../export/output-spec.js';
import { blobRootfs, type RootfsSource } from '../export/rootfs-source.js';
import type { BuildPlan, PlanOptions } from '../plan/plan-types.js';
import { planBuild } from '../plan/planner.js';
import { imageChainSteps } from '../plan/image-chain.js';
import { ImageSources, LayoutImageProvider } from './image-provider.js';
import { Registries, RegistryImages, registrySettings } from '../registry/registry-images.js';
import { pushedManifests, signPushed, type SignOptions } from '../registry/signing.js';
import type { Progress } from '../progress/progress.js';
import { LayerCompressor } from './layer-compressor.js';
import { MissExplainer } from './miss-explainer.js';
import { Solver, type CacheMiss } from './solver.js';
import { UrlFetcher } from './url-fetcher.js';
import { GitSources } from './git-sources.js';
import type { CacheExport, CacheImport } from '../remote-cache/cache-spec.js';
import { ImportedCache } from '../remote-cache/cache-import.js';
import { INLINE_CONFIG_KEY, recordsDocument } from '../remote-cache/cache-format.js';
import { selectRecords } from '../remote-cache/cache-export.js';
import { exportCaches, importWithProgress } from '../remote-cache/build-caches.js';
import { urlFileName } from '../plan/stage-lowering.js';
import { contextFileMap, selectionChecksum } from '../context/selection.js';
import { buildMetadata } from './build-metadata.js';
import { attestImages, wantsAttestations, type ImageAttestations } from '../attest/attestations.js';
import type { AttestOptions } from '../attest/attest-options.js';
import type { Signer } from '../../oci/signing/signer.js';
import { trace } from '../../oci/trace.js';

/** The cache a build reads and fills: the embedded filesystem one, or the farm's shared one. */
export interface BuildStores {
  blobs: BlobStore;
  index: CacheIndex;
  explanations: ExplainStore;
  leases: LeaseManager;
}

/** What runs one build's steps, holding what it uses under that build's lease. */
export interface WorkerSession {
  worker: Worker;
  /** The final filesystem for `local`/`tar` outputs; by default unpacked from the blob store. */
  rootfs?: RootfsSource;
  /** The build was cancelled: stop what runs now. */
  abort?(): void;
  close(): Promise<void>;
}

/** Where a build runs: its stores, a scratch directory, and its worker. */
export interface BuildEngine {
  stores: BuildStores;
  /** This process's temporary files (URL downloads, git checkouts, unpacked outputs). */
  scratchDir: string;
  /** The worker for one build; `blobs` is the store under the build's `lease`. */
  openWorker(lease: Lease, blobs: BlobStore): Promise<WorkerSession>;
  /** Where earlier compressed layers' gzip members lie (the embedded engine's). */
  gzipMembers?: GzipMemberHints;
}

export interface BuildRequest {
  plan: PlanOptions;
  outputs: OutputSpec[];
  tags: string[];
  progress: Progress;
  noCache: boolean;
  /** Stage names whose steps ignore the cache. */
  noCacheFilter: string[];
  /** `--cache-from`: records imported before solving, layers fetched when needed. */
  cacheFrom?: CacheImport[];
  /** `--cache-to`: written once the outputs are. */
  cacheTo?: CacheExport[];
  secrets: SecretSource;
  iidfile?: string;
  metadataFile?: string;
  maxParallelism?: number;
  signal?: AbortSignal;
  /** `--provenance` / `--sbom`, and what the statements name that only the caller knows. */
  attest?: AttestRequest;
  /** `--sign`: every pushed manifest is signed once the pushes and caches are written. */
  sign?: SignOptions;
}

export interface AttestRequest {
  options: AttestOptions;
  /** The Dockerfile relative to the context (`-` for stdin): no host path reaches the provenance. */
  dockerfilePath: string;
  /** `dockyard-<version>`. */
  tool: string;
  /** The builder id when `--provenance` gives none. */
  defaultBuilderId: string;
  /** `--sign --key`: attestations are stored signed (DSSE in a Sigstore bundle). */
  signer?: Signer;
}

export interface BuildResult {
  plan: BuildPlan;
  images: BuiltImage[];
  /** The manifest of a single-platform build, the index of a multi-platform one. */
  top: Descriptor;
  misses: CacheMiss[];
  /** Problems that did not fail the build (an unreadable cache import, a skipped cache export). */
  warnings: string[];
}

/** Plans, executes and exports one build with `engine`'s worker and stores. */
export async function runBuild(req: BuildRequest, engine: BuildEngine): Promise<BuildResult> {
  // Everything this build reads from or adds to the cache is leased until it ends (or dies).
  const lease = await engine.stores.leases.create();
  try {
    return await buildLeased(req, engine, lease);
  } finally {
    await lease.release();
  }
}

async function buildLeased(req: BuildRequest, engine: BuildEngine, lease: Lease): Promise<BuildResult> {
  const startedOn = new Date();
  const blobs = engine.stores.blobs.withLease(lease);
  const scratch = engine.scratchDir;
  await mkdir(scratch, { recursive: true });
  const fetcher = new UrlFetcher(blobs);
  const gitSources = new GitSources(scratch);
  const { insecure, mirrors } = registrySettings();
  const registries = new Registries({ insecure });
  const registryImages = new RegistryImages(registries, blobs, mirrors);
  trace('plan start');
  const plan = await planBuild({ resolver: registryImages, ...req.plan, fetchUrl: (url, checksum) => fetcher.fetch(url, checksum), resolveGit: (ref) => gitSources.resolve(ref) });
  trace('plan done');
  const index = engine.stores.index;
  const warnings: string[] = [];
  const imported = req.cacheFrom?.length ? await importWithProgress(req.cacheFrom, registries, req.progress, warnings) : new ImportedCache();
  const session = await engine.openWorker(lease, blobs);
  const abort = (): void => session.abort?.();
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
    engine.stores.explanations,
    plan,
    (key) => {
      const step = stepsByKey.get(key);
      return step ? solver.describe(step).name : key;
    },
    (step) => (step.kind === 'source' && step.source.type === 'context' ? contextFileMap(contextOf(step.source.name), step.source.include, step.source.exclude) : {}),
  );
  // The steps whose own layers the images carry: compressed as soon as they are made, the rest only if an export needs them.
  const exported = new Set(plan.targets.flatMap((t) => imageChainSteps(stepsByKey, t.result)));
  const solver: Solver = new Solver({
    plan,
    exported,
    worker: session.worker,
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
    imported,
    warn: (message) => warnings.push(message),
    progress: req.progress,
    secrets: req.secrets,
    ...(plan.sourceDateEpoch !== undefined ? { epoch: plan.sourceDateEpoch } : {}),
    skipCache: (key) => req.noCache || skipped.has(key),
    ...(req.maxParallelism !== undefined ? { maxParallelism: req.maxParallelism } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
  });

  // Layers a worker stored uncompressed are compressed here, only those an image needs; those of
  // steps found in the cache start as soon as the lookup ends.
  const compressor = new LayerCompressor(blobs, index, lease, engine.gzipMembers);
  for (const key of exported) {
    solver.solve(key).then(
      async (s) => {
        const own = s.input.type === 'rootfs' && !s.emptyLayer ? s.input.layers.at(-1) : undefined;
        if (own) compressor.prefetch((await settleLayers([own]))[0]!);
      },
      () => undefined, // the target's own solve reports failures
    ).catch(() => undefined);
  }
  try {
    const images: BuiltImage[] = [];
    const inline = req.cacheTo?.some((c) => c.type === 'inline') === true;
    for (const target of plan.targets) {
      const solved = target.result === null ? undefined : await solver.materialize(target.result);
      const layers = await compressor.forImage(await settleLayers(solved && solved.input.type === 'rootfs' ? solved.input.layers : []));
      const empty = new Set<StepKey>();
      for (const key of target.historySteps) if (key && (await solver.emptyLayer(key))) empty.add(key);
      // Inline records: those of this image's own steps, whose layers the image carries.
      const extraConfig = inline ? { [INLINE_CONFIG_KEY]: recordsDocument(selectRecords(await solver.allRecords(), [{ layers }], 'min')) } : undefined;
      images.push(await assembleImage(target, layers, empty, blobs, { ...(plan.sourceDateEpoch !== undefined ? { epoch: plan.sourceDateEpoch } : {}), ...(extraConfig ? { extraConfig } : {}) }));
    }
    trace('image layers ready');
    await solver.flush();
    if (req.cacheFrom?.length) await solver.adoptImported();
    trace('cache records written');
    const top = images.length === 1 ? images[0]!.manifest : await assembleIndex(images, blobs);
    const attestations = wantsAttestations(req.attest?.options) ? await attest(req, req.attest!, plan, images, blobs, startedOn) : undefined;
    await exportOutputs(req.outputs, { images, top, tags: req.tags, blobs, rootfs: session.rootfs ?? blobRootfs(blobs, scratch), progress: req.progress, registries, ...(attestations ? { attestations } : {}) });
    trace('exported');
    if (req.iidfile) await writeFile(req.iidfile, images.length === 1 ? images[0]!.config.digest : top.digest);
    if (req.metadataFile) {
      const meta = buildMetadata({ top, configDigest: images.length === 1 ? images[0]!.config.digest : undefined, tags: req.tags, misses: solver.misses });
      await writeFile(req.metadataFile, JSON.stringify(meta, null, 2) + '\n');
    }
    await exportCaches(req.cacheTo ?? [], { records: () => solver.allRecords(), images, platforms: plan.targets.map((t) => t.platform), blobs, imported, registries, progress: req.progress, warnings });
    if (req.sign) await signPushed(registries, pushedNames(req.outputs, req.tags), pushedManifests({ images, top }), req.sign, req.progress);
    return { plan, images, top, misses: solver.misses, warnings };
  } finally {
    req.signal?.removeEventListener('abort', abort);
    await session.close();
    for (const d of tempDirs) await rm(d, { recursive: true, force: true });
    await gitSources.cleanup();
  }
}

/** The provenance and SBOM statements of each platform's image, once the images are assembled. */
async function attest(req: BuildRequest, a: AttestRequest, plan: BuildPlan, images: BuiltImage[], blobs: BlobStore, startedOn: Date): Promise<ImageAttestations[]> {
  const id = req.progress.start(`attesting ${[a.options.provenance ? `provenance (mode=${a.options.provenance.mode})` : '', a.options.sbom ? 'SBOM' : ''].filter(Boolean).join(' and ')}`);
  try {
    const finishedOn = new Date();
    const checksums = new Map<string, Digest>();
    const out = await attestImages(images, a.options, {
      plan,
      tags: req.tags,
      blobs,
      tool: a.tool,
      created: plan.sourceDateEpoch !== undefined ? new Date(plan.sourceDateEpoch * 1000) : finishedOn,
      defaultBuilderId: a.defaultBuilderId,
      ...(a.signer ? { signer: a.signer } : {}),
      run: {
        invocationId: randomUUID(),
        startedOn,
        finishedOn,
        builderPlatform: plan.buildPlatform,
        dockerfilePath: a.dockerfilePath,
        dockerfileText: req.plan.dockerfileText,
        buildArgs: req.plan.buildArgs,
        labels: req.plan.labels,
        ...(req.plan.target !== undefined ? { target: req.plan.target } : {}),
        secretIds: [...req.plan.secretIds],
        contextDigest: (name) => checksums.get(name) ?? checksums.set(name, selectionChecksum(req.plan.context(name), '.')).get(name)!,
      },
    });
    req.progress.done(id);
    return out;
  } catch (err) {
    req.progress.error(id, (err as Error).message);
    throw err;
  }
}
