import { randomUUID } from 'node:crypto';
import type { Digest } from '../../oci/digest.js';
import type { CoordinatorMessage } from '../../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { Heartbeat__Output } from '../../proto/generated/dockyard/v1/Heartbeat.js';
import type { StepAssignment } from '../../proto/generated/dockyard/v1/StepAssignment.js';
import type { StepEvent__Output } from '../../proto/generated/dockyard/v1/StepEvent.js';
import type { WorkerCandidate } from './scheduler.js';

/**
 * The workers connected to this coordinator and the tasks it gave them. The Worker service feeds it
 * (registrations, Connect streams, heartbeats, step events); RemoteWorkers assigns through it and hears
 * back per task. A worker whose heartbeats stop, whose stream ends, or that registers again loses its
 * tasks: each task's `lost` handler is called once so that its step can go elsewhere.
 */

/** What a worker says about itself when it registers. */
export interface WorkerRegistration {
  id: string;
  native: string[];
  emulated: string[];
  slots: number;
  labels: Record<string, string>;
  version: string;
}

/** The coordinator's end of one worker's Connect stream. */
export interface WorkerChannel {
  send(message: CoordinatorMessage): void;
  /** Ends the stream (the worker was replaced or lost); the worker may register again. */
  close(reason: string): void;
}

/** How one assigned task hears from its worker. */
export interface TaskHandlers {
  /** A log line, progress note or secret request; or the result or failure that ends the task. */
  event(event: StepEvent__Output): void;
  /** The worker was lost before the task ended; called once, and nothing more is heard of the task. */
  lost(reason: string): void;
}

/** One assigned task: messages to its worker for it, and its end. */
export interface TaskHandle {
  readonly taskId: string;
  readonly workerId: string;
  send(message: CoordinatorMessage): void;
  /** Stops routing the task's events (after it ended, or gave up on), and frees its slot here. */
  forget(): void;
}

/** A read-only view of a worker, for logs, `queue ls` and metrics. */
export interface WorkerStatus extends WorkerRegistration {
  sessionId: string;
  connected: boolean;
  draining: boolean;
  running: number;
  free: number;
  /** Milliseconds since its last heartbeat (or registration). */
  silentMs: number;
}

export type RegistryEvent =
  | { type: 'join'; worker: WorkerStatus }
  | { type: 'leave'; worker: string; reason: string }
  /** Slots freed or capacity changed: a waiting step may now fit. */
  | { type: 'slots' };

export interface WorkerRegistryOptions {
  /** Default heartbeat timeout of a registration that names none. Default 15 000 ms. */
  heartbeatTimeoutMs?: number;
  /** How often silent workers are looked for. Default a quarter of the default timeout, at most 1 s. */
  sweepIntervalMs?: number;
  /** How many recent layer diffIDs are remembered per worker, for affinity. Default 4096. */
  recentLayers?: number;
  /** Heartbeats in a row that may omit one of our tasks before it counts as lost on the worker. Default 3. */
  missedTaskHeartbeats?: number;
  now?: () => number;
}

interface Task {
  handlers: TaskHandlers;
  /** Heartbeats since the assignment that did not list it. */
  missed: number;
}

class Worker {
  channel: WorkerChannel | undefined;
  lastSeen: number;
  draining = false;
  /** From the last heartbeat: free slots, and which of our tasks it counted as running. */
  reportedFree: number;
  reportedTasks = new Set<string>();
  readonly tasks = new Map<string, Task>();
  /** Layer diffIDs it recently produced or used, oldest first. */
  readonly recent = new Map<Digest, true>();

  constructor(
    readonly info: WorkerRegistration,
    readonly sessionId: string,
    readonly timeoutMs: number,
    now: number,
  ) {
    this.lastSeen = now;
    this.reportedFree = info.slots;
  }

  /** Free slots: ours subtracted from its slots, and from what it last reported less our tasks since. */
  get free(): number {
    const unreported = [...this.tasks.keys()].filter((t) => !this.reportedTasks.has(t)).length;
    return Math.max(0, Math.min(this.info.slots - this.tasks.size, this.reportedFree - unreported));
  }
}

export class WorkerRegistry {
  private readonly workers = new Map<string, Worker>();
  private readonly listeners = new Set<(e: RegistryEvent) => void>();
  private readonly defaultTimeoutMs: number;
  private readonly recentLimit: number;
  private readonly missedLimit: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: WorkerRegistryOptions = {}) {
    this.defaultTimeoutMs = opts.heartbeatTimeoutMs ?? 15_000;
    this.recentLimit = opts.recentLayers ?? 4096;
    this.missedLimit = opts.missedTaskHeartbeats ?? 3;
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? Math.min(1000, Math.max(10, this.defaultTimeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Calls `listener` for every join, leave and slot change; returns the unsubscribe function. */
  subscribe(listener: (e: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: RegistryEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /**
   * A new session for the worker. A worker registering again under the same id (it restarted, or lost
   * its stream) replaces its old session: that session's stream is closed and its tasks are lost.
   */
  register(info: WorkerRegistration, opts: { heartbeatTimeoutMs?: number } = {}): { sessionId: string } {
    this.drop(info.id, 'it registered again (a new session replaces the old one)');
    const w = new Worker(info, randomUUID(), opts.heartbeatTimeoutMs ?? this.defaultTimeoutMs, this.now());
    this.workers.set(info.id, w);
    return { sessionId: w.sessionId };
  }

  private session(workerId: string, sessionId: string): Worker | undefined {
    const w = this.workers.get(workerId);
    return w?.sessionId === sessionId ? w : undefined;
  }

  /**
   * Attaches a Connect stream to a registered session; from then on the worker takes steps. Undefined
   * when the session is unknown (expired, or replaced by a newer registration).
   */
  connect(workerId: string, sessionId: string, channel: WorkerChannel): WorkerStatus | undefined {
    const w = this.session(workerId, sessionId);
    if (!w) return undefined;
    // A second stream for the same session replaces the first, whose tasks are lost with it.
    if (w.channel) this.loseTasks(w, 'its stream was replaced by a new one');
    w.channel?.close('a newer stream of the same session replaced this one');
    w.channel = channel;
    w.lastSeen = this.now();
    const status = this.status(w);
    this.emit({ type: 'join', worker: status });
    return status;
  }

  /** A heartbeat: the worker is alive; its free slots, drain state, and which of our tasks it runs. */
  heartbeat(workerId: string, sessionId: string, hb: Heartbeat__Output): boolean {
    const w = this.session(workerId, sessionId);
    if (!w) return false;
    w.lastSeen = this.now();
    w.draining = hb.draining;
    w.reportedFree = hb.freeSlots;
    const running = new Set(hb.runningTasks);
    w.reportedTasks = new Set([...w.tasks.keys()].filter((t) => running.has(t)));
    for (const [taskId, task] of [...w.tasks]) {
      task.missed = running.has(taskId) ? 0 : task.missed + 1;
      if (task.missed >= this.missedLimit) this.loseTask(w, taskId, `it stopped reporting task ${taskId} as running`);
    }
    this.emit({ type: 'slots' });
    return true;
  }

  /** Routes a step event to its task; the result or failure ends the task. */
  event(workerId: string, sessionId: string, ev: StepEvent__Output): void {
    const w = this.session(workerId, sessionId);
    if (!w) return;
    w.lastSeen = this.now();
    const task = w.tasks.get(ev.taskId);
    if (!task) return; // cancelled, lost, or already finished: nobody waits for it
    if (ev.event === 'result' || ev.event === 'failure') {
      if (ev.event === 'result') this.noteLayers(w, (ev.result?.layers ?? []).map((l) => l.diffId as Digest));
      this.finish(w, ev.taskId);
    }
    task.handlers.event(ev);
  }

  /** The worker's stream `channel` ended or failed: it is gone until it registers again. */
  disconnect(workerId: string, sessionId: string, channel: WorkerChannel, reason: string): void {
    if (this.session(workerId, sessionId)?.channel === channel) this.drop(workerId, reason);
  }

  /** Drops every worker silent for longer than its heartbeat timeout. Runs on a timer; callable directly. */
  sweep(): void {
    const now = this.now();
    for (const w of [...this.workers.values()]) {
      if (now - w.lastSeen > w.timeoutMs) this.drop(w.info.id, `no heartbeat for ${now - w.lastSeen} ms (timeout ${w.timeoutMs} ms)`);
    }
  }

  /** Connected workers as the scheduler sees them. */
  candidates(): WorkerCandidate[] {
    return [...this.workers.values()]
      .filter((w) => w.channel !== undefined)
      .map((w) => {
        const free = w.free;
        return { id: w.info.id, native: w.info.native, emulated: w.info.emulated, slots: w.info.slots, running: w.info.slots - free, free, draining: w.draining, holds: (d: Digest) => w.recent.has(d) };
      });
  }

  list(): WorkerStatus[] {
    return [...this.workers.values()].map((w) => this.status(w));
  }

  private status(w: Worker): WorkerStatus {
    const free = w.free;
    return { ...w.info, sessionId: w.sessionId, connected: w.channel !== undefined, draining: w.draining, running: w.info.slots - free, free, silentMs: this.now() - w.lastSeen };
  }

  /**
   * Sends `assignment` to a connected worker and routes the task's events to `handlers`. The input
   * layers count as used by the worker, for affinity. Throws when the worker is not connected.
   */
  assign(workerId: string, assignment: StepAssignment & { taskId: string }, usedLayers: readonly Digest[], handlers: TaskHandlers): TaskHandle {
    const w = this.workers.get(workerId);
    const channel = w?.channel;
    if (!w || !channel) throw new Error(`worker ${workerId} is not connected`);
    const { taskId } = assignment;
    w.tasks.set(taskId, { handlers, missed: 0 });
    this.noteLayers(w, usedLayers);
    channel.send({ assign: assignment });
    return {
      taskId,
      workerId,
      send: (message) => {
        if (w.tasks.has(taskId)) w.channel?.send(message);
      },
      forget: () => this.finish(w, taskId),
    };
  }

  private noteLayers(w: Worker, diffIDs: readonly Digest[]): void {
    for (const d of diffIDs) {
      w.recent.delete(d);
      w.recent.set(d, true);
    }
    for (const d of w.recent.keys()) {
      if (w.recent.size <= this.recentLimit) break;
      w.recent.delete(d);
    }
  }

  private finish(w: Worker, taskId: string): void {
    if (w.tasks.delete(taskId)) this.emit({ type: 'slots' });
  }

  private loseTask(w: Worker, taskId: string, reason: string): void {
    const task = w.tasks.get(taskId);
    if (!task) return;
    this.finish(w, taskId);
    task.handlers.lost(`worker ${w.info.id} was lost: ${reason}`);
  }

  private loseTasks(w: Worker, reason: string): void {
    for (const taskId of [...w.tasks.keys()]) this.loseTask(w, taskId, reason);
  }

  private drop(workerId: string, reason: string): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    this.workers.delete(workerId);
    w.channel?.close(reason);
    this.loseTasks(w, reason);
    this.emit({ type: 'leave', worker: workerId, reason });
  }

  /** Closes every stream and stops the timer (the coordinator is shutting down). */
  close(): void {
    clearInterval(this.sweeper);
    for (const id of [...this.workers.keys()]) this.drop(id, 'the coordinator is shutting down');
  }
}
