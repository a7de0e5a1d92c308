import { availableParallelism } from 'node:os';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import type { CacheIndex, CacheRecord, LayerRecord } from '../../cache/cache-index.js';
import type { Lease } from '../../cache/lease.js';
import type { GitSourceDefinition, Step, StepKey } from '../../worker/step.js';
import type { SecretSource, StepInput, Worker } from '../../worker/worker.js';
import type { BuildPlan } from '../plan/plan-types.js';
import type { ImageProvider } from './image-provider.js';
import type { MissExplainer } from './miss-explainer.js';
import type { Progress } from '../progress/progress.js';
import { settleLayers } from '../../worker/layer.js';
import { trace } from '../../oci/trace.js';

/** The outcome of one step of the graph. */
export interface SolvedStep {
  input: StepInput;
  /** The step's own diff was empty: no layer of its own. */
  emptyLayer: boolean;
  cached: boolean;
  /** An imported record whose layers may not be here yet: `Solver.materialize` fetches them. */
  imported?: CacheRecord;
}

/** Records loaded from `--cache-from`: looked up when the local index misses; layers fetched on first use. */
export interface ImportedRecords {
  get(key: StepKey): CacheRecord | undefined;
  /** Brings one layer's blob into `blobs` (whose lease then holds it); fails when it is missing or corrupt. */
  fetch(layer: LayerRecord, blobs: BlobStore): Promise<void>;
}

/** A step failed: which one, where in the Dockerfile, and the tail of its output. */
export class StepFailedError extends Error {
  constructor(
    message: string,
    readonly step: string,
    readonly line: number | undefined,
    readonly tail: string[],
  ) {
    super(message);
  }
}

export interface SolverOptions {
  plan: BuildPlan;
  worker: Worker;
  blobs: BlobStore;
  index: CacheIndex;
  /** Holds every record, blob and snapshot the build uses, so that pruning elsewhere cannot take them. */
  lease: Lease;
  images: ImageProvider;
  /** An ADD URL's content as a file in a directory of its own (fetched during planning). */
  downloaded(url: string, digest: Digest | undefined): Promise<{ dir: string; name: string }>;
  /** An ADD git source's tree, checked out in a directory of its own. */
  gitCheckout(source: GitSourceDefinition): Promise<{ dir: string; allowed: ReadonlySet<string> }>;
  /** A local context by name, with the paths `.dockerignore` allows. */
  localContext(name: string): { dir: string; allowed: ReadonlySet<string> };
  progress: Progress;
  secrets: SecretSource;
  epoch?: number;
  /** Steps whose cache is not consulted (`--no-cache`, `--no-cache-filter`). */
  skipCache(key: StepKey): boolean;
  maxParallelism?: number;
  signal?: AbortSignal;
  /** Says why a step missed the cache; fed with every step that was built or found. */
  explainer?: MissExplainer;
  imported?: ImportedRecords;
  /** A problem that does not fail the build (an imported layer missing or corrupt). */
  warn?(message: string): void;
  /** Steps whose own layers the images carry (`exported` in their context). */
  exported?: ReadonlySet<StepKey>;
}

/** A usable cache record, and whether it came from `--cache-from` (its layers fetched on first use). */
interface Hit {
  record: CacheRecord;
  imported: boolean;
}

export interface CacheMiss {
  step: string;
  reason: string;
}

/** Bounds how many steps execute at once. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * Executes the graph: each step after its inputs, independent steps concurrently, every key at most
 * once (concurrent requests share one run), and a cached result wherever the index has one.
 */
export class Solver {
  private readonly steps: Map<StepKey, Step>;
  private readonly results = new Map<StepKey, Promise<SolvedStep>>();
  private readonly names = new Map<StepKey, { name: string; line?: number }>();
  private readonly slots: Semaphore;
  /** Every step that ran instead of coming from the cache, with the reason. */
  readonly misses: CacheMiss[] = [];
  /** Results still being compressed and recorded; `flush` waits for them. */
  private readonly background: Promise<void>[] = [];
  /** Blobs found present after they were leased: the lease keeps them, so each is looked up once per build. */
  private readonly present = new Set<Digest>();
  private readonly hits = new Map<StepKey, Promise<Hit | undefined>>();
  private readonly materialized = new Map<StepKey, Promise<SolvedStep>>();
  /** Each step's result as a record (once its blobs are durable), for `--cache-to`. */
  private readonly records = new Map<StepKey, Promise<CacheRecord>>();

  constructor(private readonly o: SolverOptions) {
    this.steps = new Map(o.plan.steps.map((s) => [s.key, s]));
    this.slots = new Semaphore(Math.max(1, o.maxParallelism ?? availableParallelism()));
    for (const t of o.plan.targets) {
      const multi = o.plan.targets.length > 1 ? ` ${t.platform}` : '';
      for (const st of t.stages) {
        const label = st.name ?? `stage-${st.index}`;
        // Numbered like BuildKit: only instructions that are steps count.
        const withSteps = st.entries.filter((e) => e.step);
        withSteps.forEach((e, i) => {
          if (!this.names.has(e.step!)) this.names.set(e.step!, { name: `[${label}${multi} ${i + 1}/${withSteps.length}] ${e.instruction.split('\n')[0]}`, line: e.line });
        });
      }
    }
  }

  describe(step: Step): { name: string; line?: number } {
    const known = this.names.get(step.key);
    if (known) return known;
    if (step.kind === 'source' && step.source.type === 'context') return { name: `[internal] load build context ${step.source.name}` };
    if (step.kind === 'source' && step.source.type === 'git') return { name: `[internal] load git source ${step.source.remote}#${step.source.ref}` };
    return { name: `[internal] ${step.kind} ${step.key.slice(7, 19)}` };
  }

  /** Waits until every result of this build is compressed and recorded in the cache index. */
  async flush(): Promise<void> {
    await Promise.all(this.background);
  }

  solve(key: StepKey): Promise<SolvedStep> {
    let r = this.results.get(key);
    if (!r) {
      r = this.run(key);
      this.results.set(key, r);
    }
    return r;
  }

  /**
   * A usable cache record: leased first, then checked, so that what it names cannot be pruned between
   * the check and the use. A record whose blobs are gone is a miss.
   */
  private async lookup(key: StepKey): Promise<CacheRecord | undefined> {
    await this.o.lease.add([{ kind: 'record', key }]);
    const hit = await this.o.index.get(key);
    if (!hit) return undefined;
    await this.o.lease.add(hit.layers.flatMap((l) => [{ kind: 'blob', digest: l.digest } as const, { kind: 'snapshot', diffID: l.diffID } as const]));
    const unknown = [...new Set(hit.layers.map((l) => l.digest).filter((d) => !this.present.has(d)))];
    const sizes = await Promise.all(unknown.map((d) => this.o.blobs.stat(d)));
    if (sizes.some((size) => size === undefined)) return undefined;
    for (const d of unknown) this.present.add(d);
    return hit;
  }

  /** A hit for `key`, looked up once per build: a local record whose blobs are here, else an imported one. */
  private findHit(key: StepKey): Promise<Hit | undefined> {
    let h = this.hits.get(key);
    if (!h) {
      h = (async () => {
        if (this.o.skipCache(key)) return undefined;
        const local = await this.lookup(key);
        if (local) return { record: local, imported: false };
        const imported = this.o.imported?.get(key);
        return imported && { record: imported, imported: true };
      })();
      this.hits.set(key, h);
    }
    return h;
  }

  /**
   * An input of a cache hit. It is solved when it is a hit too (its progress line, its record for
   * `--cache-to`), a context (for later miss explanations) or a step the user asked to rebuild; a step
   * that would have to run is left alone, as BuildKit does: nothing in this build needs its result.
   */
  private async probe(key: StepKey): Promise<void> {
    const step = this.steps.get(key);
    if (!step) return;
    if (step.kind === 'source' && step.source.type !== 'image') {
      if (step.source.type === 'context') await this.solve(key);
      return;
    }
    if (this.o.skipCache(key) || (await this.findHit(key))) await this.solve(key);
  }

  /**
   * The step's result with its layers in the local store. An imported hit's layers are fetched now,
   * and the record joins the local index. When a layer cannot be fetched, the inputs are made local
   * first (a lower layer may be theirs, and a step of theirs may rebuild it); if this step's own layer
   * is still missing, the step runs: a broken import is a cache miss, never a failed build.
   */
  materialize(key: StepKey): Promise<SolvedStep> {
    let m = this.materialized.get(key);
    if (!m) {
      m = this.solve(key).then((solved) => (solved.imported ? this.fetchImported(key, solved.imported, solved) : solved));
      this.materialized.set(key, m);
    }
    return m;
  }

  private async fetchLayers(record: CacheRecord): Promise<void> {
    await this.o.lease.add(record.layers.flatMap((l) => [{ kind: 'blob', digest: l.digest } as const, { kind: 'snapshot', diffID: l.diffID } as const]));
    await Promise.all(
      record.layers.map(async (l) => {
        if (this.present.has(l.digest)) return;
        if ((await this.o.blobs.stat(l.digest)) === undefined) await this.o.imported!.fetch(l, this.o.blobs);
        this.present.add(l.digest);
      }),
    );
  }

  private async fetchImported(key: StepKey, record: CacheRecord, solved: SolvedStep): Promise<SolvedStep> {
    const step = this.steps.get(key)!;
    try {
      await this.fetchLayers(record);
    } catch {
      // Inputs that ran again write their blobs in the background: wait for them before looking again.
      const inputs = await Promise.all(step.inputs.map((k) => this.materialize(k)));
      await Promise.all(inputs.map((i) => (i.input.type === 'rootfs' ? settleLayers(i.input.layers) : undefined)));
      try {
        await this.fetchLayers(record);
      } catch (err) {
        const { name } = this.describe(step);
        this.o.warn?.(`${(err as Error).message}; ${name} runs instead`);
        this.hits.set(key, Promise.resolve(undefined));
        return this.execute(step, 'its imported cache could not be fetched');
      }
    }
    await this.o.lease.add([{ kind: 'record', key }]);
    await this.o.index.put(record);
    return { input: solved.input, emptyLayer: solved.emptyLayer, cached: true };
  }

  /**
   * Imported hits whose layers all reached the local store (as part of a result that was needed)
   * join the local index, so that the next build on this cache finds them without an import.
   */
  async adoptImported(): Promise<void> {
    for (const [key, result] of this.results) {
      const solved = await result.catch(() => undefined);
      if (!solved?.imported || this.materialized.has(key)) continue;
      const record = solved.imported;
      await this.o.lease.add([{ kind: 'record', key }, ...record.layers.map((l) => ({ kind: 'blob', digest: l.digest }) as const)]);
      const sizes = await Promise.all(record.layers.map((l) => (this.present.has(l.digest) ? 0 : this.o.blobs.stat(l.digest))));
      if (sizes.every((size) => size !== undefined)) await this.o.index.put(record);
    }
  }

  /** Whether a step's own diff was empty, without running it when its record says so. */
  async emptyLayer(key: StepKey): Promise<boolean> {
    const hit = this.results.has(key) ? undefined : await this.findHit(key);
    return hit ? hit.record.emptyLayer === true : (await this.solve(key)).emptyLayer;
  }

  /** Every step's record, once all are stored: what `--cache-to` may export. */
  async allRecords(): Promise<CacheRecord[]> {
    await this.flush();
    return Promise.all(this.records.values());
  }

  private async run(key: StepKey): Promise<SolvedStep> {
    const step = this.steps.get(key);
    if (!step) throw new Error(`step ${key} is not in the plan`);
    if (this.o.signal?.aborted) throw new Error('build cancelled');

    if (step.kind === 'source' && step.source.type === 'context') {
      await this.o.explainer?.record(step);
      const { name } = step.source;
      let input: StepInput | undefined;
      // Listed only when a step runs with it: a build whose steps all hit never reads the context's entries.
      const localContext = (): StepInput => (input ??= { type: 'local', ...this.o.localContext(name) });
      return {
        get input() {
          return localContext();
        },
        emptyLayer: false,
        cached: false,
      };
    }
    if (step.kind === 'source' && step.source.type === 'http') {
      const file = await this.o.downloaded(step.source.url, step.source.digest);
      return { input: { type: 'local', dir: file.dir, allowed: new Set([file.name]) }, emptyLayer: false, cached: false };
    }
    if (step.kind === 'source' && step.source.type === 'git') {
      const id = this.o.progress.start(this.describe(step).name);
      try {
        const tree = await this.o.gitCheckout(step.source);
        this.o.progress.done(id);
        return { input: { type: 'local', dir: tree.dir, allowed: tree.allowed }, emptyLayer: false, cached: false };
      } catch (err) {
        this.o.progress.error(id, (err as Error).message);
        throw err;
      }
    }

    const hit = await this.findHit(key);
    if (hit) {
      await Promise.all(step.inputs.map((k) => this.probe(k)));
      const id = this.o.progress.start(this.describe(step).name);
      if (!hit.imported) await this.o.index.touch(key);
      await this.o.explainer?.record(step);
      this.o.progress.cached(id);
      this.records.set(key, Promise.resolve(hit.record));
      const input: StepInput = { type: 'rootfs', layers: hit.record.layers };
      return { input, emptyLayer: hit.record.emptyLayer === true, cached: true, ...(hit.imported ? { imported: hit.record } : {}) };
    }
    return this.execute(step);
  }

  /** Runs a step that missed the cache (its inputs made local first) and records its result in the background. */
  private async execute(step: Step, why?: string): Promise<SolvedStep> {
    const key = step.key;
    const inputs = await Promise.all(step.inputs.map((k) => this.materialize(k)));
    if (this.o.signal?.aborted) throw new Error('build cancelled');
    const { name, line } = this.describe(step);
    const id = this.o.progress.start(name);
    trace(`step: ${name.slice(0, 60)}`);
    const skip = this.o.skipCache(key);
    if (this.o.explainer && step.kind !== 'source') {
      const reason = why ?? (await this.o.explainer.explain(step, skip));
      this.misses.push({ step: name, reason });
      this.o.progress.note(id, `cache miss: ${reason}`);
    }

    const release = await this.slots.acquire();
    try {
      let layers;
      let emptyLayer = false;
      if (step.kind === 'source') {
        if (step.source.type !== 'image') throw new Error(`${step.source.type} sources are not supported yet`);
        layers = await this.o.images.pull(step.source.ref, step.source.digest);
      } else {
        const out = await this.o.worker.execute(step, inputs.map((i) => i.input), {
          log: (l) => this.o.progress.log(id, l),
          secrets: this.o.secrets,
          ...(this.o.epoch !== undefined ? { epoch: this.o.epoch } : {}),
          ...(this.o.signal ? { signal: this.o.signal } : {}),
          ...(this.o.exported?.has(key) ? { exported: true } : {}),
        });
        layers = out.layers;
        emptyLayer = out.emptyLayer;
      }
      // The record becomes visible to later builds only once every blob is durable.
      const recorded = settleLayers(layers).then(async (records) => {
        const record: CacheRecord = { key, layers: records, created: new Date().toISOString(), ...(emptyLayer ? { emptyLayer } : {}) };
        await this.o.lease.add([{ kind: 'record', key }]);
        await this.o.index.put(record);
        await this.o.explainer?.record(step);
        return record;
      });
      this.records.set(key, recorded);
      const stored = recorded.then(
        () => undefined,
        (err: Error) => {
          throw new StepFailedError(`storing its result failed: ${err.message}`, name, line, []);
        },
      );
      stored.catch(() => undefined); // observed by flush()
      this.background.push(stored);
      this.o.progress.done(id);
      return { input: { type: 'rootfs', layers }, emptyLayer, cached: false };
    } catch (err) {
      const e = err as Error & { tail?: string[] };
      if (process.env.DOCKYARD_DEBUG) process.stderr.write(`${e.stack}\n`);
      this.o.progress.error(id, e.message);
      throw new StepFailedError(e.message, name, line, e.tail ?? []);
    } finally {
      release();
    }
  }
}
