import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { ContentBlobStore } from '../../cache/content-blob-store.js';
import type { Digest } from '../../oci/digest.js';
import type { StepAssignment__Output } from '../../proto/generated/dockyard/v1/StepAssignment.js';
import type { StepEvent } from '../../proto/generated/dockyard/v1/StepEvent.js';
import { required } from '../contract/contract-error.js';
import { decodeStepInput, encodeStepResult } from '../contract/io-codec.js';
import { decodeStep } from '../contract/step-codec.js';
import type { RemoteStepInput } from '../contract/step-io.js';
import { ExecError } from '../exec/run-step.js';
import { settleLayers } from '../layer.js';
import { LocalWorker } from '../local/local-worker.js';
import type { SecretSource, StepInput } from '../worker.js';
import { materialiseTree } from './file-tree.js';
import type { CacheSession, LocalCache } from './local-cache.js';
import { trace } from '../../oci/trace.js';

/** What a finished assignment reports: a result or a failure (the StepEvent without its task id). */
export type StepOutcome = Pick<StepEvent, 'result'> | Pick<StepEvent, 'failure'>;

export interface StepRunnerDeps {
  cache: LocalCache;
  /** The coordinator's store, through its Content service. */
  content: ContentBlobStore;
  /** A line of the step's output, sent as a LogLine. */
  log(line: string): void;
  /** A phase with a count, sent as StepProgress: `downloaded` blobs of the inputs, `uploaded` blobs of the result. */
  progress(action: 'downloaded' | 'uploaded', current: number, total: number): void;
  secrets: SecretSource;
  signal: AbortSignal;
}

/** A finished assignment: its outcome, to report at once, and the bookkeeping that goes on after. */
export interface AssignmentRun {
  outcome: StepOutcome;
  /** LRU records, temporary files, the lease and the cache's size bound: nothing the coordinator waits for. */
  housekeeping: Promise<void>;
}

/**
 * Runs one assignment with the same engine as a local build: inputs made local (layer blobs into the
 * worker's store, file trees into a temporary directory), LocalWorker.execute, layers settled, new
 * blobs uploaded to the coordinator before the result is reported.
 */
export async function runAssignment(assign: StepAssignment__Output, deps: StepRunnerDeps): Promise<AssignmentRun> {
  const session = await deps.cache.open();
  const tempDirs: string[] = [];
  // The LRU records of what was fetched, written while the step runs: bookkeeping, never the step's failure.
  let remembering: Promise<void> = Promise.resolve();
  let made: LayerRecord[] = [];
  let outcome: StepOutcome;
  try {
    const step = decodeStep(required(assign.step, 'assign.step'));
    if (step.kind === 'source') throw new Error(`source steps run on the coordinator, not on a worker (step ${step.key})`);
    const inputs = assign.inputs.map(decodeStepInput);
    const { local, remembered } = await makeLocal(inputs, session, deps, tempDirs);
    remembering = remembered;
    const worker = new LocalWorker(session.blobs, session.snapshots, deps.cache.dir);
    const out = await worker.execute(step, local, {
      log: deps.log,
      secrets: deps.secrets,
      signal: deps.signal,
      exported: assign.exported,
      ...(assign.epoch !== undefined ? { epoch: assign.epoch } : {}),
    });
    made = await settleLayers(out.layers);
    await upload(made, session, deps);
    trace('worker: step done');
    outcome = { result: encodeStepResult({ layers: made, emptyLayer: out.emptyLayer }) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    outcome = { failure: { message: e.message, tail: e instanceof ExecError ? e.tail : [] } };
  }
  const housekeeping = (async () => {
    await remembering.catch(() => undefined);
    // The lease still holds what the step made, so no size bound takes it before its record exists.
    await deps.cache.remember(made).catch(() => undefined);
    for (const d of tempDirs) await rm(d, { recursive: true, force: true });
    await session.lease.release();
    await deps.cache.enforceLimit().catch(() => undefined);
  })().catch(() => undefined); // a lease not released expires with this process
  return { outcome, housekeeping };
}

/**
 * The step's inputs made local. What was fetched is recorded for the LRU bound while the step runs
 * (`remembered`): the record's sync is bookkeeping, not something the step waits for.
 */
async function makeLocal(inputs: RemoteStepInput[], session: CacheSession, deps: StepRunnerDeps, tempDirs: string[]): Promise<{ local: StepInput[]; remembered: Promise<void> }> {
  const files: Digest[] = inputs.flatMap((i) => (i.type === 'rootfs' ? [] : i.entries.flatMap((e) => (e.digest ? [e.digest] : []))));
  const rootfs = inputs.flatMap((i) => (i.type === 'rootfs' ? i.layers : []));
  trace('worker: fetching inputs');
  const fetched = await deps.cache.ensure(session, files, deps.content, rootfs);
  trace(`worker: inputs fetched (${fetched.downloaded} downloaded)`);
  deps.progress('downloaded', fetched.downloaded, new Set(files).size + new Set(rootfs.map((l) => l.diffID)).size);
  const remembered = deps.cache.remember(rootfs, fetched.unpacked);
  remembered.catch(() => undefined); // awaited by the caller, after the step
  // Named `<kind>-<pid>-…` so that the next start removes what a killed worker left (SnapshotStore.cleanStale).
  const tmp = join(deps.cache.dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const out: StepInput[] = [];
  for (const input of inputs) {
    if (input.type === 'rootfs') out.push(input);
    else {
      const holder = await mkdtemp(join(tmp, `files-${process.pid}-`));
      tempDirs.push(holder);
      const tree = await materialiseTree(input.entries, session.blobs, holder);
      out.push({ type: 'local', dir: tree.dir, allowed: tree.allowed });
    }
  }
  return { local: out, remembered };
}

/** Every blob of the result the coordinator lacks, sent before the result names it. */
async function upload(layers: LayerRecord[], session: CacheSession, deps: StepRunnerDeps): Promise<void> {
  const digests = [...new Set(layers.map((l) => l.digest))];
  const missing = await deps.content.findMissing(digests);
  for (const d of missing) await deps.content.putFrom(session.blobs, d);
  deps.progress('uploaded', missing.length, digests.length);
}
