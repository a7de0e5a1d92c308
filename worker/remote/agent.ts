import type { CoordinatorMessage__Output } from '../../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { StepAssignment__Output } from '../../proto/generated/dockyard/v1/StepAssignment.js';
import type { StepEvent } from '../../proto/generated/dockyard/v1/StepEvent.js';
import { CoordinatorLink, type LinkOwner, type Registration } from './coordinator-link.js';
import type { LocalCache } from './local-cache.js';
import { runAssignment } from './step-runner.js';
import { StreamSecrets } from './stream-secrets.js';

export interface AgentOptions extends Registration {
  coordinators: string[];
  cache: LocalCache;
}

/** A step this worker runs, and the stream it came on (its events go back there). */
interface Task {
  link: CoordinatorLink;
  abort: AbortController;
  secrets: StreamSecrets;
  done: Promise<void>;
}


/**
 * The `dockyard worker` daemon: registers with every coordinator, holds one Connect stream to each
 * (re-registering with backoff when one breaks), runs the steps they assign within its slots (shared
 * by all streams) and heartbeats. `drain` stops taking work and resolves once running steps are done.
 */
export class WorkerAgent implements LinkOwner {
  private readonly tasks = new Map<string, Task>();
  /** Steps reported whose bookkeeping still runs (runAssignment's housekeeping): drained too. */
  private readonly housekeeping = new Set<Promise<void>>();
  private readonly links: CoordinatorLink[];
  private draining = false;

  constructor(private readonly opts: AgentOptions) {
    this.links = opts.coordinators.map((address) => new CoordinatorLink(address, opts, this));
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
    await Promise.all(this.housekeeping);
    await this.close();
  }

  assign(link: CoordinatorLink, a: StepAssignment__Output): void {
    const send = (ev: Omit<StepEvent, 'taskId'>): void => link.send({ event: { taskId: a.taskId, ...ev } });
    if (this.draining || this.freeSlots() === 0 || this.tasks.has(a.taskId)) {
      send({ failure: { message: `worker ${this.opts.id} ${this.draining ? 'is draining' : 'has no free slot'}`, tail: [], refused: true } });
      return;
    }
    const abort = new AbortController();
    const secrets = new StreamSecrets((requestId, secretId) => send({ secretRequest: { requestId, secretId } }));
    const task: Task = { link, abort, secrets, done: Promise.resolve() };
    this.tasks.set(a.taskId, task);
    this.opts.log(`running ${a.name || a.taskId}`);
    task.done = (async () => {
      try {
        const { outcome, housekeeping } = await runAssignment(a, {
          cache: this.opts.cache,
          content: link.content,
          log: (line) => send({ log: { line } }),
          progress: (action, current, total) => send({ progress: { action, current, total } }),
          secrets,
          signal: abort.signal,
        });
        secrets.fail(new Error('the step has ended'));
        if (!abort.signal.aborted || 'result' in outcome) send(outcome);
        else send({ failure: { message: `cancelled: ${String(abort.signal.reason ?? '')}`, tail: [] } });
        this.opts.log(`${'result' in outcome ? 'finished' : 'failed'} ${a.name || a.taskId}`);
        this.housekeeping.add(housekeeping);
        void housekeeping.finally(() => this.housekeeping.delete(housekeeping));
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
