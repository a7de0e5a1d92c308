import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { BlobStore } from '../cache/blob-store.js';
import type { Digest } from '../oci/digest.js';
import type { ContentHandlers } from '../proto/generated/dockyard/v1/Content.js';
import type { CoordinatorMessage } from '../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { RegisterRequest__Output } from '../proto/generated/dockyard/v1/RegisterRequest.js';
import type { StepEvent__Output } from '../proto/generated/dockyard/v1/StepEvent.js';
import type { UploadRequest__Output } from '../proto/generated/dockyard/v1/UploadRequest.js';
import type { WorkerHandlers } from '../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage__Output } from '../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../proto/load.js';
import { protocolServerInterceptor } from '../proto/protocol.js';
import { encodeStepInput } from '../worker/contract/io-codec.js';
import { encodeStep } from '../worker/contract/step-codec.js';
import type { RemoteStepInput } from '../worker/contract/step-io.js';
import type { Step } from '../worker/step.js';

/** What the test coordinator saw of one task. */
export interface TaskRecord {
  logs: string[];
  secretRequests: string[];
  end: Promise<StepEvent__Output>;
}

export interface Heartbeat {
  running: string[];
  draining: boolean;
}

/**
 * Just enough of a coordinator for a real `dockyard worker` process: Register and Connect (assign a
 * step on demand, answer secret requests only for ids the step mounts, keep what comes back) and a
 * Content service over `store`, behind the protocol check and a shared-token check.
 */
export class TestCoordinator extends EventEmitter {
  readonly registrations: RegisterRequest__Output[] = [];
  readonly heartbeats: Heartbeat[] = [];
  private readonly server: grpc.Server;
  private stream?: grpc.ServerDuplexStream<WorkerMessage__Output, CoordinatorMessage>;
  private readonly tasks = new Map<string, { record: TaskRecord; settle(ev: StepEvent__Output): void; mounted: Set<string> }>();
  address = '';

  constructor(
    private readonly store: BlobStore,
    private readonly secrets: Map<string, string>,
    token: string,
  ) {
    super();
    this.server = new grpc.Server({ interceptors: [protocolServerInterceptor('coordinator'), tokenCheck(token)] });
    const proto = loadDockyardProto();
    this.server.addService(proto.dockyard.v1.Worker.service, this.workerHandlers());
    this.server.addService(proto.dockyard.v1.Content.service, this.contentHandlers());
  }

  async start(): Promise<void> {
    const port = await new Promise<number>((resolve, reject) => this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    this.address = `127.0.0.1:${port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }

  /** How many streams said hello so far. */
  hellos = 0;

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

  assign(taskId: string, step: Step, inputs: RemoteStepInput[], name: string): TaskRecord {
    let settle!: (ev: StepEvent__Output) => void;
    const record: TaskRecord = { logs: [], secretRequests: [], end: new Promise((resolve) => (settle = resolve)) };
    const mounted = new Set(step.kind === 'exec' ? step.exec.mounts.flatMap((m) => (m.type === 'secret' ? [m.id] : [])) : []);
    this.tasks.set(taskId, { record, settle, mounted });
    this.stream!.write({ assign: { taskId, step: encodeStep(step), inputs: inputs.map(encodeStepInput), epoch: 0, name } });
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

  private contentHandlers(): ContentHandlers {
    const store = this.store;
    return {
      FindMissing: (call, callback) => {
        void (async () => {
          const missing: string[] = [];
          for (const d of call.request.digests) if ((await store.stat(d as Digest)) === undefined) missing.push(d);
          callback(null, { missing });
        })();
      },
      Stat: (call, callback) => {
        void store.stat(call.request.digest as Digest).then((size) => callback(null, { exists: size !== undefined, size: size ?? 0, uploadOffset: 0 }));
      },
      Download: (call) => {
        void (async () => {
          const digest = call.request.digest as Digest;
          const size = await store.stat(digest);
          if (size === undefined) return call.destroy(Object.assign(new Error(`blob ${digest} not found`), { code: grpc.status.NOT_FOUND }));
          let offset = 0;
          for await (const chunk of store.stream(digest)) {
            call.write({ size, offset, data: chunk as Buffer });
            offset += (chunk as Buffer).length;
          }
          call.end();
        })();
      },
      Upload: (call, callback) => {
        let writer: ReturnType<BlobStore['writer']> | undefined;
        call.on('data', (msg: UploadRequest__Output) => {
          if (msg.part === 'header') writer = store.writer(msg.header!.digest as Digest);
          else writer?.write(msg.data!);
        });
        call.on('end', () => {
          writer!.commit().then(
            (info) => callback(null, { digest: info.digest, size: info.size }),
            (err: Error) => callback({ code: grpc.status.DATA_LOSS, details: err.message }),
          );
        });
      },
    };
  }
}

/** UNAUTHENTICATED unless the call carries `authorization: Bearer <token>`. */
function tokenCheck(token: string): grpc.ServerInterceptor {
  return (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (metadata.get('authorization')[0] === `Bearer ${token}`) next(metadata);
        else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong token', metadata: new grpc.Metadata() });
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
