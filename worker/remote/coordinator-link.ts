import * as grpc from '@grpc/grpc-js';
import { ContentBlobStore } from '../../cache/content-blob-store.js';
import type { CoordinatorMessage__Output } from '../../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { RegisterResponse__Output } from '../../proto/generated/dockyard/v1/RegisterResponse.js';
import type { WorkerClient } from '../../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage } from '../../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../../proto/load.js';
import { dialOptions, type DialOptions } from '../../proto/transport.js';

/** Who this worker says it is, and how it dials. */
export interface Registration {
  id: string;
  dial: DialOptions;
  slots: number;
  nativePlatforms: string[];
  emulatedPlatforms: string[];
  labels: Record<string, string>;
  version: string;
  /** Where uploads are spooled. */
  scratchDir: string;
  /** Operator-facing lines (never step output, never secrets). */
  log(line: string): void;
}

/** What a link reports to, and asks for its heartbeats. */
export interface LinkOwner {
  readonly isDraining: boolean;
  freeSlots(): number;
  tasksOf(link: CoordinatorLink): string[];
  onCoordinatorMessage(link: CoordinatorLink, msg: CoordinatorMessage__Output): void;
  /** The stream broke (the link reconnects by itself unless closed). */
  onLinkLost(link: CoordinatorLink, reason: string): void;
}

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
  return e.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN/.test(e.details ?? '');
}

const BACKOFF_MS = [200, 500, 1000, 2000, 5000];

/** One coordinator: its registration, Connect stream and heartbeats. */
export class CoordinatorLink {
  readonly content: ContentBlobStore;
  private readonly client: WorkerClient;
  private call?: grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage__Output>;
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private closed = false;
  private failures = 0;
  private first?: Promise<void>;

  constructor(
    private readonly address: string,
    private readonly reg: Registration,
    private readonly agent: LinkOwner,
  ) {
    const { credentials, options } = dialOptions(reg.dial);
    this.client = new (loadDockyardProto().dockyard.v1.Worker)(address, credentials, options);
    // Uploads spool in the cache's tmp directory, named `blob-<pid>-…`: a killed worker's are removed at the next start.
    this.content = new ContentBlobStore(address, reg.dial, { scratchDir: reg.scratchDir });
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
          this.reg.log(`cannot reach ${this.address} (${callFailure(err)}); retrying in ${delay}ms`);
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
    clearTimeout(this.retry);
    const call = this.call;
    call?.end();
    // A coordinator that keeps its side open must not keep this process alive.
    if (call) setTimeout(() => call.cancel(), 1000).unref();
    this.client.close();
    this.content.close();
  }

  private register(): Promise<RegisterResponse__Output> {
    const o = this.reg;
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
    call.write({ hello: { workerId: reg.workerId || this.reg.id, sessionId: reg.sessionId } });
    this.heartbeat();
    this.timer = setInterval(() => this.heartbeat(), reg.heartbeatIntervalMs > 0 ? reg.heartbeatIntervalMs : 1000);
  }

  private reconnect(reason: string): void {
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
    this.failures++;
    this.reg.log(`${reason}; reconnecting in ${delay}ms`);
    this.retry = setTimeout(() => {
      if (this.closed) return;
      this.open().then(
        () => {
          this.failures = 0;
          this.reg.log(`reconnected to ${this.address}`);
        },
        (err: Error) => this.reconnect(`cannot reach ${this.address}: ${callFailure(err)}`),
      );
    }, delay);
  }
}
