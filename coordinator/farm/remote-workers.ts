import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../../cache/blob-store.js';
import type { CacheIndex } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import type { StepEvent__Output } from '../../proto/generated/dockyard/v1/StepEvent.js';
import { decodeStepResult, encodeStepInput } from '../../worker/contract/io-codec.js';
import { encodeStep } from '../../worker/contract/step-codec.js';
import type { RemoteStepInput, SettledStepOutput, TreeEntry } from '../../worker/contract/step-io.js';
import { settleLayers } from '../../worker/layer.js';
import type { ExecutableStep, StepContext, StepInput, StepOutput, Worker } from '../../worker/worker.js';
import { knownFileTree, localFileTree, type FilesInput } from './local-files.js';
import { pickWorker } from './scheduler.js';
import type { TaskHandle, WorkerRegistry } from './worker-registry.js';

/**
 * The solver's Worker for farm builds: each step goes to one of the registered workers over its
 * Connect stream. Inputs cross as data (layer chains by digest; local directories as file trees whose
 * contents are put into the shared store first); the step's logs come back to `ctx.log`; its secret
 * requests are answered only for ids the step mounts; cancellation goes down as CancelStep; a step
 * whose worker is lost (heartbeats stop, stream ends) is given to another, up to `retries` times.
 */

/** A step failed on its worker: the message and the tail of its output, as ExecError has them. */
export class RemoteStepError extends Error {
  constructor(
    message: string,
    readonly tail: string[],
    readonly worker: string,
  ) {
    super(message);
  }
}

/** The step's workers kept being lost, or no worker runs its platform. */
export class WorkerUnavailableError extends ExpectedError {}

/**
 * Runs identical steps once across coordinators: `StepLocks` (coordinator/queue/step-locks.ts)
 * satisfies `locks`; with `index`, the step's result is looked up before and after waiting for
 * another holder, and recorded before the lock is released.
 */
export interface StepDeduplication {
  locks: {
    runOnce<T>(
      stepKey: string,
      step: { cached(): Promise<T | undefined>; run(lease: { readonly lost: AbortSignal }): Promise<T>; waiting?(round: number): void },
      signal?: AbortSignal,
    ): Promise<{ value: T }>;
  };
  index: CacheIndex;
}

export interface RemoteWorkersOptions {
  /** How many times a step is reassigned after losing its worker. Default 2. */
  retries?: number;
  /** How long a step waits for a worker that runs its platform to connect. Default 60 000 ms. */
  unschedulableTimeoutMs?: number;
  dedupe?: StepDeduplication;
  /**
   * Context directories that exist only as entries (uploaded contexts, by the directory their
   * BuildContext names): their inputs are built from the entries, with no file read.
   */
  knownTrees?: KnownTrees;
}

/** Uploaded contexts' entries, by path, by the directory their BuildContext names (never written). */
export type KnownTrees = ReadonlyMap<string, ReadonlyMap<string, TreeEntry>>;

type Outcome =
  | { kind: 'done'; output: SettledStepOutput; worker: string }
  | { kind: 'lost'; reason: string }
  /** The worker turned the step away before starting it (no free slot, draining): try again. */
  | { kind: 'refused'; worker: string; reason: string };

/** Refusals in a row after which a step gives up (workers that keep saying full while heartbeating free). */
const MAX_REFUSALS = 100;

/** A step waiting for a free slot; `place` assigns it synchronously, so one free slot is taken once. */
interface Waiter {
  step: ExecutableStep;
  inputs: RemoteStepInput[];
  place(workerId: string): void;
  fail(err: Error): void;
  /** Since when no connected worker runs its platform. */
  unschedulableSince?: number;
}

const abortError = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new Error('build cancelled'));

export class RemoteWorkers implements Worker {
  private readonly waiting: Waiter[] = [];
  private readonly retries: number;
  private readonly unschedulableTimeoutMs: number;
  /** File trees of local inputs, per directory and selection: the same context is sent many times. */
  private readonly trees = new WeakMap<ReadonlySet<string>, Map<string, Promise<FilesInput>>>();
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly store: BlobStore,
    private readonly opts: RemoteWorkersOptions = {},
  ) {
    this.retries = opts.retries ?? 2;
    this.unschedulableTimeoutMs = opts.unschedulableTimeoutMs ?? 60_000;
    this.unsubscribe = registry.subscribe(() => this.pump());
  }

  /** Stops listening to the registry; steps still waiting fail. */
  close(): void {
    this.unsubscribe();
    clearTimeout(this.timer);
    for (const w of this.waiting.splice(0)) w.fail(new WorkerUnavailableError('the coordinator is shutting down'));
  }

  async execute(step: ExecutableStep, inputs: StepInput[], ctx: StepContext): Promise<StepOutput> {
    const remote = await Promise.all(inputs.map((i) => this.remoteInput(i)));
    const dedupe = this.opts.dedupe;
    if (!dedupe) return this.dispatch(step, remote, ctx, ctx.signal);
    const { value } = await dedupe.locks.runOnce<SettledStepOutput>(
      step.key,
      {
        cached: () => this.cached(dedupe.index, step.key),
        waiting: (round) => {
          if (round === 1) ctx.log('# waiting for another build that runs the same step');
        },
        // A lock whose lease could not be refreshed (Redis unreachable for a while) lets another
        // coordinator run the step too: wasteful but harmless, so the step goes on rather than fail.
        run: async () => {
          const out = await this.dispatch(step, remote, ctx, ctx.signal);
          // Recorded before the lock is released, so that waiters find it; the solver writes it again.
          await dedupe.index.put({ key: step.key, layers: out.layers, created: new Date().toISOString(), ...(out.emptyLayer ? { emptyLayer: true } : {}) });
          return out;
        },
      },
      ctx.signal,
    );
    return value;
  }

  /** The step's recorded result when every blob of it is in the store (held for this build). */
  private async cached(index: CacheIndex, key: Digest): Promise<SettledStepOutput | undefined> {
    const rec = await index.get(key);
    if (!rec) return undefined;
    const present = await Promise.all(rec.layers.map((l) => this.store.hold(l.digest)));
    return present.every(Boolean) ? { layers: rec.layers, emptyLayer: rec.emptyLayer === true } : undefined;
  }

  private async remoteInput(input: StepInput): Promise<RemoteStepInput> {
    if (input.type === 'rootfs') return { type: 'rootfs', layers: await settleLayers(input.layers) };
    let byDir = this.trees.get(input.allowed);
    if (!byDir) this.trees.set(input.allowed, (byDir = new Map()));
    let tree = byDir.get(input.dir);
    if (!tree) {
      const known = this.opts.knownTrees?.get(input.dir);
      tree = known ? knownFileTree(known, input.allowed, this.store) : localFileTree(input.dir, input.allowed, this.store);
      byDir.set(input.dir, tree);
      tree.catch(() => byDir.delete(input.dir));
    }
    return tree;
  }

  /** Runs the step on some worker, again on another when one is lost, up to `retries` times. */
  private async dispatch(step: ExecutableStep, inputs: RemoteStepInput[], ctx: StepContext, signal: AbortSignal | undefined): Promise<SettledStepOutput> {
    const lost: string[] = [];
    let refusals = 0;
    for (;;) {
      const outcome = await this.attempt(step, inputs, ctx, signal);
      if (outcome.kind === 'refused') {
        if (++refusals > MAX_REFUSALS) throw new WorkerUnavailableError(`workers refused the step ${refusals} times; last: ${outcome.reason}`);
        // Counted full until its next heartbeat, so the step waits or goes elsewhere meanwhile.
        this.registry.markFull(outcome.worker);
        continue;
      }
      if (outcome.kind === 'done') {
        const missing = [];
        for (const l of outcome.output.layers) if (!(await this.store.hold(l.digest))) missing.push(l.digest);
        if (missing.length > 0) throw new RemoteStepError(`worker ${outcome.worker} reported layers whose blobs are not in the store: ${missing.join(', ')}`, [], outcome.worker);
        return outcome.output;
      }
      lost.push(outcome.reason);
      if (lost.length > this.retries) throw new WorkerUnavailableError(`the step lost its worker ${lost.length} times; last: ${outcome.reason}`);
      ctx.log(`# ${outcome.reason}; running the step again elsewhere`);
    }
  }

  /** One assignment: waits for a slot, then for the worker's result, failure or loss. */
  private attempt(step: ExecutableStep, inputs: RemoteStepInput[], ctx: StepContext, signal: AbortSignal | undefined): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      let handle: TaskHandle | undefined;
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        // The worker stops the step and reports a failure; its slot is freed then (or when it is lost).
        handle?.send({ cancel: { taskId: handle.taskId, reason: String(abortError(signal!).message) } });
        settle(() => reject(abortError(signal!)));
      };
      const mounted = new Set(step.kind === 'exec' ? step.exec.mounts.flatMap((m) => (m.type === 'secret' ? [m.id] : [])) : []);
      const onEvent = (ev: StepEvent__Output, workerId: string): void => {
        switch (ev.event) {
          case 'log':
            if (!settled) ctx.log(ev.log?.line ?? '');
            return;
          case 'secretRequest':
            if (ev.secretRequest) void this.answerSecret(handle!, ev.secretRequest, mounted, ctx);
            return;
          case 'result':
            return settle(() => {
              try {
                resolve({ kind: 'done', output: decodeStepResult(ev.result!), worker: workerId });
              } catch (err) {
                reject(new RemoteStepError(`worker ${workerId} sent a result the coordinator cannot read: ${(err as Error).message}`, [], workerId));
              }
            });
          case 'failure':
            if (ev.failure?.refused) return settle(() => resolve({ kind: 'refused', worker: workerId, reason: ev.failure!.message }));
            return settle(() => reject(new RemoteStepError(ev.failure?.message ?? 'the step failed', ev.failure?.tail ?? [], workerId)));
          default:
            return; // progress notes have no place in StepContext yet
        }
      };
      const waiter: Waiter = {
        step,
        inputs,
        place: (workerId) => {
          const usedLayers = inputs.flatMap((i) => (i.type === 'rootfs' ? i.layers.map((l) => l.diffID) : []));
          handle = this.registry.assign(
            workerId,
            { taskId: randomUUID(), step: encodeStep(step), inputs: inputs.map(encodeStepInput), name: `${step.kind} ${step.key.slice(7, 19)}`, exported: ctx.exported === true, ...(ctx.epoch !== undefined ? { epoch: ctx.epoch } : {}) },
            usedLayers,
            { event: (ev) => onEvent(ev, workerId), lost: (reason) => settle(() => resolve({ kind: 'lost', reason })) },
          );
        },
        fail: (err) => settle(() => reject(err)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.pump();
    });
  }

  /** A secret goes only to the step that mounts it; a request for another id is refused and noted. */
  private async answerSecret(handle: TaskHandle, req: { requestId: string; secretId: string }, mounted: ReadonlySet<string>, ctx: StepContext): Promise<void> {
    let value: Buffer | undefined;
    if (mounted.has(req.secretId)) {
      value = await ctx.secrets.get(req.secretId).catch(() => undefined);
    } else {
      ctx.log(`# refused secret ${JSON.stringify(req.secretId)}: this step does not mount it`);
    }
    handle.send({ secret: { taskId: handle.taskId, requestId: req.requestId, found: value !== undefined, value: value ?? Buffer.alloc(0) } });
  }

  /** Places waiting steps in order, each on the worker the scheduler picks; the rest keep waiting. */
  private pump(): void {
    const now = Date.now();
    for (const w of [...this.waiting]) {
      const placement = pickWorker(w.step, w.inputs, this.registry.candidates());
      if (placement.kind === 'assign') {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        try {
          w.place(placement.worker);
        } catch (err) {
          w.fail(err as Error);
        }
      } else if (placement.kind === 'wait') {
        delete w.unschedulableSince;
      } else {
        w.unschedulableSince ??= now;
        if (now - w.unschedulableSince >= this.unschedulableTimeoutMs) {
          this.waiting.splice(this.waiting.indexOf(w), 1);
          w.fail(new WorkerUnavailableError(`${placement.reason} (waited ${Math.round((now - w.unschedulableSince) / 1000)} s)`));
        }
      }
    }
    this.scheduleRecheck();
  }

  /** While a step waits for a platform nobody runs, look again when its wait would time out. */
  private scheduleRecheck(): void {
    clearTimeout(this.timer);
    const since = this.waiting.flatMap((w) => (w.unschedulableSince === undefined ? [] : [w.unschedulableSince]));
    if (since.length === 0) return;
    this.timer = setTimeout(() => this.pump(), Math.max(0, Math.min(...since) + this.unschedulableTimeoutMs - Date.now()) + 1);
    this.timer.unref();
  }
}
