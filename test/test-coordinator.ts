import type * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { BlobStore } from '../cache/blob-store.js';
import { contentService } from '../coordinator/farm/content-service.js';
import type { CoordinatorMessage } from '../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { RegisterRequest__Output } from '../proto/generated/dockyard/v1/RegisterRequest.js';
import type { StepEvent__Output } from '../proto/generated/dockyard/v1/StepEvent.js';
import type { WorkerHandlers } from '../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage__Output } from '../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../proto/load.js';
import { tempDir } from './helpers.js';
import { startGrpcServer, type StartedServer, type TlsFiles } from '../proto/transport.js';
import { encodeStepInput } from '../worker/contract/io-codec.js';
import { encodeStep } from '../worker/contract/step-codec.js';
import type { RemoteStepInput } from '../worker/contract/step-io.js';
import type { Step } from '../worker/step.js';

/** What the test coordinator saw of one task. */
export interface TaskRecord {
  logs: string[];
  /** `action current/total` of each progress note. */
  progress: string[];
  secretRequests: string[];
  end: Promise<StepEvent__Output>;
}

export interface Heartbeat {
  running: string[];
  draining: boolean;
}

/**
 * Just enough of a coordinator for a real `dockyard worker` process: Register and Connect (assign a
 * step on demand, answer secret requests only for ids the step mounts, keep what comes back) and the
 * Content service over `store`, served as the coordinator serves them (token and protocol checks).
 */
export class TestCoordinator extends EventEmitter {
  readonly registrations: RegisterRequest__Output[] = [];
  readonly heartbeats: Heartbeat[] = [];
  private server?: StartedServer;
  private stream?: grpc.ServerDuplexStream<WorkerMessage__Output, CoordinatorMessage>;
  private readonly tasks = new Map<string, { record: TaskRecord; settle(ev: StepEvent__Output): void; mounted: Set<string> }>();
  address = '';
  /** How many streams said hello so far. */
  hellos = 0;

  constructor(
    private readonly store: BlobStore,
    private readonly secrets: Map<string, string>,
    private readonly token: string,
    private readonly tls: TlsFiles = {},
  ) {
    super();
  }

  async start(listen = '127.0.0.1:0'): Promise<void> {
    const worker = { definition: loadDockyardProto().dockyard.v1.Worker.service, handlers: this.workerHandlers() };
    this.server = await startGrpcServer({ listen, tls: this.tls, token: this.token, services: [worker, contentService(this.store, { spoolDir: tempDir('upload-spool') })] });
    this.address = this.server.address;
  }

  stop(): void {
    this.server?.server.forceShutdown();
  }

  /** Resolves once `n` streams in all have said hello. */
  connected(n = 1): Promise<void> {
    return this.hellos >= n ? Promise.resolve() : new Promise((resolve) => this.once('hello', () => resolve(this.connected(n))));
  }

  /** Ends the current stream from the coordinator's side, as a coordinator restart would. */
  dropStream(): void {
    this.stream?.end();
    this.stream = undefined;
  }

  cancel(taskId: string, reason: string): void {
    this.stream!.write({ cancel: { taskId, reason } });
  }

  /** Assigns `step`; with `exported`, its layer is one an image carries (gzip-compressed by the worker). */
  assign(taskId: string, step: Step, inputs: RemoteStepInput[], name: string, opts: { exported?: boolean } = {}): TaskRecord {
    let settle!: (ev: StepEvent__Output) => void;
    const record: TaskRecord = { logs: [], progress: [], secretRequests: [], end: new Promise((resolve) => (settle = resolve)) };
    const mounted = new Set(step.kind === 'exec' ? step.exec.mounts.flatMap((m) => (m.type === 'secret' ? [m.id] : [])) : []);
    this.tasks.set(taskId, { record, settle, mounted });
    this.stream!.write({ assign: { taskId, step: encodeStep(step), inputs: inputs.map(encodeStepInput), epoch: 0, name, exported: opts.exported === true } });
    return record;
  }

  private workerHandlers(): WorkerHandlers {
    return {
      Register: (call, callback) => {
        this.registrations.push(call.request);
        callback(null, { workerId: call.request.workerId, sessionId: `session-${this.registrations.length}`, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 2000 });
      },
      Connect: (call) => {
        call.on('data', (msg: WorkerMessage__Output) => {
          if (msg.message === 'hello') {
            this.stream = call;
            this.hellos++;
            this.emit('hello');
          } else if (msg.message === 'heartbeat') {
            this.heartbeats.push({ running: msg.heartbeat!.runningTasks, draining: msg.heartbeat!.draining });
            this.emit('heartbeat', this.heartbeats.at(-1));
          } else if (msg.message === 'event') this.onEvent(call, msg.event!);
        });
        call.on('end', () => {
          if (this.stream === call) this.stream = undefined;
          call.end();
        });
        call.on('error', () => undefined);
      },
    };
  }

  private onEvent(call: grpc.ServerDuplexStream<WorkerMessage__Output, CoordinatorMessage>, ev: StepEvent__Output): void {
    const task = this.tasks.get(ev.taskId);
    if (!task) return;
    switch (ev.event) {
      case 'log':
        task.record.logs.push(ev.log!.line);
        this.emit('log', ev.taskId, ev.log!.line);
        break;
      case 'progress':
        task.record.progress.push(`${ev.progress!.action} ${ev.progress!.current}/${ev.progress!.total}`);
        break;
      case 'secretRequest': {
        const { requestId, secretId } = ev.secretRequest!;
        task.record.secretRequests.push(secretId);
        const value = task.mounted.has(secretId) ? this.secrets.get(secretId) : undefined;
        call.write({ secret: { taskId: ev.taskId, requestId, found: value !== undefined, value: Buffer.from(value ?? '') } });
        break;
      }
      case 'result':
      case 'failure':
        task.settle(ev);
        break;
      default:
        break;
    }
  }
}
