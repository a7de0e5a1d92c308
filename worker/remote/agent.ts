import type * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { ContentBlobStore } from '../../cache/content-blob-store.js';
import type { CoordinatorMessage__Output } from '../../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { RegisterResponse__Output } from '../../proto/generated/dockyard/v1/RegisterResponse.js';
import type { StepAssignment__Output } from '../../proto/generated/dockyard/v1/StepAssignment.js';
import type { StepEvent } from '../../proto/generated/dockyard/v1/StepEvent.js';
import type { WorkerClient } from '../../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage } from '../../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../../proto/load.js';
import { dialOptions, type DialOptions } from '../../proto/transport.js';
import type { LocalCache } from './local-cache.js';
import { runAssignment } from './step-runner.js';
import { StreamSecrets } from './stream-secrets.js';

export interface AgentOptions {
  id: string;
  coordinators: string[];
  dial: DialOptions;
  slots: number;
  nativePlatforms: string[];
  emulatedPlatforms: string[];
  labels: Record<string, string>;
  version: string;
  cache: LocalCache;
  /** Operator-facing lines (never step output, never secrets). */
  log(line: string): void;
}

/** A step this worker runs, and the stream it came on (its events go back there). */
interface Task {
  link: CoordinatorLink;
  abort: AbortController;
  secrets: StreamSecrets;
  done: Promise<void>;
}

const UNAVAILABLE = 14;

/** A failed call as one short line: grpc-js details can carry OpenSSL's error stack and a timestamp. */
export function callFailure(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  const first = (e.details || e.message || String(err)).split(/\n|\\n/)[0]!.trim();
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(first);
  return ssl ? `TLS handshake failed: ${ssl[1]}` : first;
}

/** Nothing answers at the address (yet): as opposed to a peer that answered and refused us. */
function unreachable(err: unknown): boolean {
  const e = err as Partial<grpc.ServiceError>;
  return e.code === UNAVAILABLE && /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN/.test(e.details ?? '');
}
const BACKOFF_MS = [200, 500, 1000, 2000, 5000];

/**
 * The `dockyard worker` daemon: registers with every coordinator, holds one Connect stream to each
 * (re-registering with backoff when one breaks), runs the steps they assign within its slots (shared
 * by all streams) and heartbeats. `drain` stops taking work and resolves once running steps are done.
 */
export class WorkerAgent {
  private readonly tasks = new Map<string, Task>();
  private readonly links: CoordinatorLink[];
  private draining = false;

  constructor(private readonly opts: AgentOptions) {
    this.links = opts.coordinators.map((address) => new CoordinatorLink(address, this));
  }

  get options(): AgentOptions {
    return this.opts;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  freeSlots(): number {
    return Math.max(0, this.opts.slots - this.tasks.size);
  }

  tasksOf(link: CoordinatorLink): string[] {
    return [...this.tasks].filter(([, t]) => t.link === link).map(([id]) => id);
  }

  /** Resolves once every coordinator has accepted the registration and its stream is open. */
  async start(): Promise<void> {
    await this.opts.cache.claim();
    await Promise.all(this.links.map((l) => l.connected()));
  }

  /** Closes every stream at once (a failed start). */
  async close(): Promise<void> {
    for (const l of this.links) l.close();
    await this.opts.cache.unclaim();
  }

  /** Stops taking work, tells the coordinators, waits for running steps, then closes every stream. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const l of this.links) l.heartbeat();
    await Promise.all([...this.tasks.values()].map((t) => t.done));
    await this.close();
  }

  assign(link: CoordinatorLink, a: StepAssignment__Output): void {
    const send = (ev: Omit<StepEvent, 'taskId'>): void => link.send({ event: { taskId: a.taskId, ...ev } });
    if (this.draining || this.freeSlots() === 0 || this.tasks.has(a.taskId)) {
      send({ failure: { message: `worker ${this.opts.id} ${this.draining ? 'is draining' : 'has no free slot'}`, tail: [] } });
      return;
    }
    const abort = new AbortController();
    const secrets = new StreamSecrets((requestId, secretId) => send({ secretRequest: { requestId, secretId } }));
    const task: Task = { link, abort, secrets, done: Promise.resolve() };
    this.tasks.set(a.taskId, task);
    this.opts.log(`running ${a.name || a.taskId}`);
    task.done = (async () => {
      try {
        const outcome = await runAssignment(a, { cache: this.opts.cache, content: link.content, log: (line) => send({ log: { line } }),
          progress: (action, current, total) => send({ progress: { action, current, total } }),
          secrets, signal: abort.signal });
        secrets.fail(new Error('the step has ended'));
        if (!abort.signal.aborted || 'result' in outcome) send(outcome);
        else send({ failure: { message: `cancelled: ${String(abort.signal.reason ?? '')}`, tail: [] } });
        this.opts.log(`${'result' in outcome ? 'finished' : 'failed'} ${a.name || a.taskId}`);
      } finally {
        this.tasks.delete(a.taskId);
        link.heartbeat();
      }
    })();
  }

  onCoordinatorMessage(link: CoordinatorLink, msg: CoordinatorMessage__Output): void {
    switch (msg.message) {
      case 'assign':
        if (msg.assign) this.assign(link, msg.assign);
        break;
      case 'secret':
        if (msg.secret) this.tasks.get(msg.secret.taskId)?.secrets.answer(msg.secret);
        break;
      case 'cancel':
        if (msg.cancel) this.tasks.get(msg.cancel.taskId)?.abort.abort(msg.cancel.reason || 'cancelled by the coordinator');
        break;
      default:
        break;
    }
  }

  /** A stream broke: its steps cannot report any more (the coordinator reassigns them), so they stop. */
  onLinkLost(link: CoordinatorLink, reason: string): void {
    for (const [, t] of this.tasks) {
      if (t.link !== link) continue;
      t.secrets.fail(new Error(reason));
      t.abort.abort(reason);
    }
  }
}

/** One coordinator: its registration, Connect stream and heartbeats. */
class CoordinatorLink {
  readonly content: ContentBlobStore;
  private readonly client: WorkerClient;
  private call?: grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage__Output>;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private failures = 0;
  private first?: Promise<void>;

  constructor(
    private readonly address: string,
    private readonly agent: WorkerAgent,
  ) {
    const { dial, cache } = agent.options;
    const { credentials, options } = dialOptions(dial);
    this.client = new (loadDockyardProto().dockyard.v1.Worker)(address, credentials, options);
    // Uploads spool in the cache's tmp directory, named `blob-<pid>-…`: a killed worker's are removed at the next start.
    this.content = new ContentBlobStore(address, dial, { scratchDir: join(cache.dir, 'tmp') });
  }

  /** The first registration and stream (an error here, such as a refused token, fails the start). */
  connected(): Promise<void> {
    this.first ??= (async () => {
      // A coordinator not listening yet is waited for; a refusal (token, protocol, TLS) is final.
      for (let n = 0; ; n++) {
        try {
          return await this.open();
        } catch (err) {
          if (!unreachable(err) || this.closed) throw err;
          const delay = BACKOFF_MS[Math.min(n, BACKOFF_MS.length - 1)]!;
          this.agent.options.log(`cannot reach ${this.address} (${callFailure(err)}); retrying in ${delay}ms`);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
    return this.first;
  }

  send(msg: WorkerMessage): void {
    if (this.call && !this.closed) this.call.write(msg);
  }

  heartbeat(): void {
    this.send({ heartbeat: { runningTasks: this.agent.tasksOf(this), freeSlots: this.agent.freeSlots(), draining: this.agent.isDraining } });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.call?.end();
    this.client.close();
    this.content.close();
  }

  private register(): Promise<RegisterResponse__Output> {
    const o = this.agent.options;
    return new Promise((resolve, reject) =>
      this.client.Register(
        { workerId: o.id, nativePlatforms: o.nativePlatforms, emulatedPlatforms: o.emulatedPlatforms, slots: o.slots, labels: o.labels, version: o.version },
        { deadline: Date.now() + 30_000 },
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
  }

  private async open(): Promise<void> {
    const reg = await this.register();
    const call = this.client.Connect();
    this.call = call;
    call.on('data', (msg: CoordinatorMessage__Output) => this.agent.onCoordinatorMessage(this, msg));
    let lost = false;
    const onLost = (reason: string): void => {
      if (lost) return;
      lost = true;
      clearInterval(this.timer);
      if (this.call === call) this.call = undefined;
      this.agent.onLinkLost(this, reason);
      if (!this.closed) this.reconnect(reason);
    };
    call.on('error', (err: grpc.ServiceError) => onLost(`stream to ${this.address} broke: ${callFailure(err)}`));
    call.on('end', () => onLost(`coordinator ${this.address} closed the stream`));
    call.write({ hello: { workerId: reg.workerId || this.agent.options.id, sessionId: reg.sessionId } });
    this.heartbeat();
    this.timer = setInterval(() => this.heartbeat(), reg.heartbeatIntervalMs > 0 ? reg.heartbeatIntervalMs : 1000);
  }

  private reconnect(reason: string): void {
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
    this.failures++;
    this.agent.options.log(`${reason}; reconnecting in ${delay}ms`);
    setTimeout(() => {
      if (this.closed) return;
      this.open().then(
        () => {
          this.failures = 0;
          this.agent.options.log(`reconnected to ${this.address}`);
        },
        (err: Error) => this.reconnect(`cannot reach ${this.address}: ${callFailure(err)}`),
      );
    }, delay);
  }
}
