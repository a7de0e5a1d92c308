import * as grpc from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { loadDockyardProto } from '../../proto/load.js';
import type { BuildEnd } from '../../proto/generated/dockyard/v1/BuildEnd.js';
import type { BuildEvent } from '../../proto/generated/dockyard/v1/BuildEvent.js';
import type { BuildHandlers } from '../../proto/generated/dockyard/v1/Build.js';
import type { BuildSummary } from '../../proto/generated/dockyard/v1/BuildSummary.js';
import type { ClientMessage__Output } from '../../proto/generated/dockyard/v1/ClientMessage.js';
import { formatPlatform } from '../../oci/platform.js';
import type { BuildQueue } from '../queue/build-queue.js';
import type { BuildDetails, BuildState } from '../queue/build-status.js';
import type { AttachedClients } from './attached-clients.js';
import type { BuildEventLog, StoredOutput } from './build-events.js';
import type { JsonLog } from './log.js';
import type { FarmMetrics } from './metrics.js';
import { queuedRequest, queuePriority, wirePriority } from './submitted-build.js';

export interface BuildServiceDeps {
  queue: BuildQueue;
  events: BuildEventLog;
  /** A connection to duplicate for each Attach (its blocking reads hold one). */
  redis: Redis;
  store: BlobStore;
  clients: AttachedClients;
  /** Notes where a build's clients are attached for the coordinator running it, and checks its grant (SecretRelay). */
  attachments?: { attached(buildId: string): Promise<() => Promise<void>>; granted(buildId: string, grant: string): Promise<boolean> };
  log: JsonLog;
  metrics?: FarmMetrics;
}

const OUTPUT_CHUNK = 1 << 20;

const wireState: Record<BuildState, BuildSummary['state']> = {
  waiting: 'BUILD_STATE_QUEUED',
  delayed: 'BUILD_STATE_QUEUED',
  active: 'BUILD_STATE_RUNNING',
  completed: 'BUILD_STATE_SUCCEEDED',
  failed: 'BUILD_STATE_FAILED',
  cancelled: 'BUILD_STATE_CANCELLED',
};

function summary(d: BuildDetails): BuildSummary {
  return {
    buildId: d.id,
    state: wireState[d.state],
    tenant: d.tenant,
    priority: wirePriority(d.priority),
    dockerfileName: d.data.request.dockerfileName,
    platforms: d.data.request.platforms.map(formatPlatform),
    submittedUnixMs: Date.parse(d.submittedAt),
    ...(d.finishedAt ? { endedUnixMs: Date.parse(d.finishedAt) } : {}),
    stepsDone: d.progress?.stepsDone ?? 0,
    stepsTotal: d.progress?.stepsTotal ?? 0,
  };
}

/** A RelaySecret call without the build's grant: a token holder that is not a coordinator. */
class RelayRefused extends Error {}

/** A handler's error as a gRPC status: the user's mistakes as INVALID_ARGUMENT with their one line. */
function status(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof RelayRefused) return { code: grpc.status.PERMISSION_DENIED, details: err.message };
  if (err instanceof ExpectedError) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(status(err)),
    );
  };
}

/**
 * The Build service: Submit queues a build (any coordinator of the farm may run it), Attach follows it
 * from its event stream in Redis (any coordinator can serve it, and a client can attach again after
 * one died), Cancel, ListQueue and Inspect read and change the queue.
 */
export function buildService(deps: BuildServiceDeps): { definition: grpc.ServiceDefinition; handlers: BuildHandlers } {
  const definition = loadDockyardProto().dockyard.v1.Build.service;

  /** Where a waiting build stands (1 = next), or undefined once it runs. */
  const position = async (id: string): Promise<number | undefined> => {
    const waiting = await deps.queue.list(['waiting', 'delayed']);
    waiting.sort((a, b) => a.priority - b.priority || a.submittedAt.localeCompare(b.submittedAt));
    const i = waiting.findIndex((s) => s.id === id);
    return i < 0 ? undefined : i + 1;
  };

  /** The end of a build that stopped without publishing one (it failed before it started, or was removed). */
  const endOfQueue = async (id: string): Promise<BuildEnd | undefined> => {
    const d = await deps.queue.inspect(id);
    if (d && d.state !== 'failed' && d.state !== 'cancelled') return undefined;
    const end = await deps.events.end(id);
    if (end) return end;
    if (!d || d.state === 'cancelled') return { failure: { kind: 'FAILURE_KIND_CANCELLED', failure: { message: 'build cancelled', tail: [] } } };
    return { failure: { kind: 'FAILURE_KIND_INTERNAL', failure: { message: d.failedReason ?? 'build failed', tail: [] } } };
  };

  async function sendOutputs(call: grpc.ServerDuplexStream<ClientMessage__Output, BuildEvent>, outputs: StoredOutput[]): Promise<void> {
    for (const o of outputs) {
      let sent = 0;
      for await (const chunk of deps.store.stream(o.digest as Digest)) {
        const buf = chunk as Buffer;
        for (let at = 0; at < buf.length; at += OUTPUT_CHUNK) {
          const data = buf.subarray(at, at + OUTPUT_CHUNK);
          sent += data.length;
          if (!call.write({ output: { index: o.index, data, last: false } })) await new Promise((r) => call.once('drain', r));
        }
      }
      deps.metrics?.bytesMoved.inc({ direction: 'output' }, sent);
      call.write({ output: { index: o.index, data: Buffer.alloc(0), last: true } });
    }
  }

  async function follow(call: grpc.ServerDuplexStream<ClientMessage__Output, BuildEvent>, id: string, closed: () => boolean): Promise<void> {
    if (!(await deps.queue.inspect(id)) && !(await deps.events.end(id))) {
      call.destroy(Object.assign(new Error(`no build ${id} in the queue`), { code: grpc.status.NOT_FOUND }));
      return;
    }
    const detach = deps.clients.add(id, { ask: (requestId, secretId) => call.write({ secretRequest: { requestId, secretId } }) });
    const noted = await deps.attachments?.attached(id).catch((err: unknown) => {
      deps.log.warn('could not note the attachment: a build running elsewhere cannot ask this client for secrets', { build: id, error: err instanceof Error ? err.message : String(err) });
      return undefined;
    });
    const reader = deps.redis.duplicate();
    let lastPosition: number | undefined;
    let outputs: StoredOutput[] = [];
    try {
      let ended = false;
      const stream = deps.events.follow(reader, id, () => closed() || ended);
      let idle = true;
      const check = async (): Promise<BuildEnd | undefined> => {
        const p = await position(id);
        if (p !== undefined && p !== lastPosition) call.write({ queued: { position: p } });
        lastPosition = p;
        return p === undefined ? endOfQueue(id) : undefined;
      };
      const first = await check();
      if (first) {
        call.write({ end: first });
        return;
      }
      // The stream itself only says what a running build did; the queue says whether it is still waiting.
      const poll = setInterval(() => {
        if (!idle) return;
        check().then(
          (end) => {
            if (end && !ended) {
              ended = true;
              call.write({ end });
              call.end();
            }
          },
          () => undefined,
        );
      }, 1000);
      try {
        for await (const e of stream) {
          idle = false;
          if (ended) return;
          if (e.kind === 'progress') call.write({ progress: e.progress });
          else if (e.kind === 'attempt') outputs = [];
          else if (e.kind === 'outputs') outputs = e.outputs;
          else if (e.kind === 'end') {
            ended = true;
            if (e.end.result) await sendOutputs(call, outputs);
            call.write({ end: e.end });
          }
          idle = true;
        }
      } finally {
        clearInterval(poll);
      }
    } finally {
      detach();
      await noted?.().catch(() => undefined);
      reader.disconnect();
    }
  }

  const handlers: BuildHandlers = {
    Submit: unary(async (req) => {
      if (!req.options) throw new ExpectedError('Submit without build options');
      const request = await queuedRequest(deps.store, req.options);
      const id = await deps.queue.enqueue(request, { tenant: req.tenant || 'default', priority: queuePriority(req.priority) });
      deps.log.info('build queued', { build: id, tenant: req.tenant || 'default' });
      return { buildId: id };
    }),

    Attach: (call) => {
      let started = false;
      let closed = false;
      call.on('cancelled', () => (closed = true));
      call.on('end', () => {
        closed = true;
      });
      call.on('error', () => (closed = true));
      call.on('data', (msg: ClientMessage__Output) => {
        if (msg.message === 'attach' && msg.attach && !started) {
          started = true;
          follow(call, msg.attach.buildId, () => closed).then(
            () => {
              if (!call.destroyed) call.end();
            },
            (err: unknown) => {
              deps.log.error('attach failed', { build: msg.attach!.buildId, error: err instanceof Error ? err.message : String(err) });
              call.destroy(Object.assign(new Error(status(err).details), { code: status(err).code }));
            },
          );
        } else if (msg.message === 'secret' && msg.secret) deps.clients.answer(msg.secret.requestId, msg.secret.found ? msg.secret.value : undefined);
      });
    },

    Cancel: unary(async (req) => {
      const outcome = await deps.queue.cancel(req.buildId);
      if (outcome.kind === 'not-found') throw new ExpectedError(`no build ${req.buildId} in the queue`);
      // A build removed before it started publishes no end of its own: attached clients get this one.
      if (outcome.kind === 'removed') await deps.events.append(req.buildId, { kind: 'end', end: { failure: { kind: 'FAILURE_KIND_CANCELLED', failure: { message: 'build cancelled', tail: [] } } } });
      deps.log.info('build cancel requested', { build: req.buildId, outcome: outcome.kind });
      return { cancelled: outcome.kind === 'removed' || outcome.kind === 'signalled' };
    }),

    ListQueue: unary(async (req) => {
      const states: BuildState[] = req.all ? ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'] : ['waiting', 'delayed', 'active'];
      const builds: BuildSummary[] = [];
      for (const s of await deps.queue.list(states)) {
        const d = await deps.queue.inspect(s.id);
        if (d) builds.push(summary(d));
      }
      builds.sort((a, b) => Number(a.submittedUnixMs) - Number(b.submittedUnixMs));
      return { builds };
    }),

    RelaySecret: unary(async (req) => {
      // Only a coordinator (it reads the grant from Redis) may have this build's client asked.
      if (!deps.attachments || !(await deps.attachments.granted(req.buildId, req.grant))) throw new RelayRefused(`RelaySecret for build ${req.buildId}: no valid relay grant`);
      const asked = deps.clients.askHere(req.buildId, req.secretId);
      if (!asked) return { attached: false, found: false, value: Buffer.alloc(0) };
      const value = await asked;
      return { attached: true, found: value !== undefined, value: value ?? Buffer.alloc(0) };
    }),

    Inspect: unary(async (req) => {
      const d = await deps.queue.inspect(req.buildId);
      if (!d) throw new ExpectedError(`no build ${req.buildId} in the queue`);
      const end = await deps.events.end(req.buildId);
      return { summary: summary(d), ...(end ? { end } : {}), workers: [] };
    }),
  };
  return { definition, handlers };
}
