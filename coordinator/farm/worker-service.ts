import * as grpc from '@grpc/grpc-js';
import type { CoordinatorMessage } from '../../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { WorkerHandlers } from '../../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage__Output } from '../../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../../proto/load.js';
import type { WorkerChannel, WorkerRegistry } from './worker-registry.js';

/**
 * The coordinator's side of the `Worker` service: Register gives a worker a session, Connect holds its
 * stream. The first message on Connect names the session; then heartbeats are acknowledged and step
 * events are handed to the registry, which routes them by task id to the RemoteWorkers call that
 * waits for them. Protocol versions (and tokens) are checked by the server's interceptors before
 * these handlers run.
 */

export interface WorkerServiceOptions {
  /** How often workers are told to send a heartbeat. Default 5 000 ms. */
  heartbeatIntervalMs?: number;
  /** After this long without a heartbeat a worker is lost and its steps are reassigned. Default 3 intervals. */
  heartbeatTimeoutMs?: number;
}

/** Why a registration cannot be accepted, or undefined. */
function invalidRegistration(r: { workerId: string; nativePlatforms: string[]; emulatedPlatforms: string[]; slots: number }): string | undefined {
  if (r.workerId.trim() === '') return 'a worker must register with a non-empty worker_id';
  if (r.slots < 1) return `worker ${r.workerId} registered with ${r.slots} slots: it needs at least 1`;
  if (r.nativePlatforms.length + r.emulatedPlatforms.length === 0) return `worker ${r.workerId} registered without any platform`;
  return undefined;
}

export function workerService(registry: WorkerRegistry, opts: WorkerServiceOptions = {}): { definition: grpc.ServiceDefinition; handlers: WorkerHandlers } {
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 5000;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 3 * heartbeatIntervalMs;

  const handlers: WorkerHandlers = {
    Register(call, callback) {
      const r = call.request;
      const invalid = invalidRegistration(r);
      if (invalid) return callback({ code: grpc.status.INVALID_ARGUMENT, details: invalid });
      const { sessionId } = registry.register(
        { id: r.workerId, native: r.nativePlatforms, emulated: r.emulatedPlatforms, slots: r.slots, labels: { ...r.labels }, version: r.version },
        { heartbeatTimeoutMs },
      );
      callback(null, { workerId: r.workerId, sessionId, heartbeatIntervalMs, heartbeatTimeoutMs });
    },

    Connect(call) {
      let session: { workerId: string; sessionId: string } | undefined;
      const fail = (code: grpc.status, details: string): void => {
        if (!call.writableEnded) call.emit('error', { code, details });
      };
      const channel: WorkerChannel = {
        send: (message: CoordinatorMessage) => {
          if (!call.writableEnded && !call.destroyed) call.write(message);
        },
        close: (reason) => fail(grpc.status.UNAVAILABLE, reason),
      };
      const gone = (reason: string): void => {
        if (session) registry.disconnect(session.workerId, session.sessionId, channel, reason);
        session = undefined;
      };

      call.on('data', (msg: WorkerMessage__Output) => {
        if (!session) {
          if (msg.message !== 'hello' || !msg.hello) return fail(grpc.status.FAILED_PRECONDITION, 'the first message on Connect must be a hello with the session from Register');
          const { workerId, sessionId } = msg.hello;
          if (!registry.connect(workerId, sessionId, channel)) return fail(grpc.status.NOT_FOUND, `worker ${workerId} has no session ${sessionId} (expired or replaced): register again`);
          session = { workerId, sessionId };
          return;
        }
        if (msg.message === 'heartbeat' && msg.heartbeat) {
          if (registry.heartbeat(session.workerId, session.sessionId, msg.heartbeat)) channel.send({ heartbeatAck: {} });
        } else if (msg.message === 'event' && msg.event) {
          registry.event(session.workerId, session.sessionId, msg.event);
        }
      });
      call.on('end', () => {
        gone('its stream ended');
        if (!call.writableEnded) call.end();
      });
      call.on('cancelled', () => gone('its stream was cancelled'));
      call.on('error', (err: Error) => gone(`its stream failed: ${err.message}`));
    },
  };
  return { definition: loadDockyardProto().dockyard.v1.Worker.service, handlers };
}
