import type { ProgressEvent } from '../../proto/generated/dockyard/v1/ProgressEvent.js';
import { Progress } from '../progress/progress.js';
import type { FarmMetrics } from './metrics.js';

/**
 * A build's progress as a coordinator reports it: the same calls the solver makes on a local build's
 * Progress, turned into ProgressEvents (published in order, to the build's event stream) instead of
 * printed. Step durations and cache hits go to the metrics.
 */
export class PublishedProgress extends Progress {
  private chain: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private readonly startedAt = new Map<number, { at: number; step: boolean }>();

  constructor(
    private readonly publish: (e: ProgressEvent) => Promise<void>,
    private readonly metrics?: FarmMetrics,
  ) {
    super('quiet');
  }

  private send(vertex: number, event: Omit<ProgressEvent, 'vertex' | 'timeUnixMs'>): void {
    const e: ProgressEvent = { vertex, timeUnixMs: Date.now(), ...event };
    this.chain = this.chain.then(() => this.publish(e)).catch((err: Error) => void (this.failed ??= err));
  }

  private ended(id: number, outcome: 'built' | 'cached' | 'failed'): void {
    const s = this.startedAt.get(id);
    if (s?.step) this.metrics?.step(outcome, (Date.now() - s.at) / 1000);
  }

  override start(name: string): number {
    const id = super.start(name);
    // Dockerfile steps count, not context loads, base image pulls (FROM) or exports.
    this.startedAt.set(id, { at: Date.now(), step: /^\[[^\]]*\] (?!FROM )/.test(name) && !name.startsWith('[internal]') });
    this.send(id, { started: name });
    return id;
  }

  override log(id: number, line: string): void {
    super.log(id, line);
    this.send(id, { log: line });
  }

  override cached(id: number): void {
    super.cached(id);
    this.ended(id, 'cached');
    this.send(id, { cached: true });
  }

  override done(id: number): void {
    super.done(id);
    this.ended(id, 'built');
    this.send(id, { done: true });
  }

  override error(id: number, message: string): void {
    super.error(id, message);
    this.ended(id, 'failed');
    this.send(id, { error: message });
  }

  override note(id: number, text: string): void {
    super.note(id, text);
    this.send(id, { note: text });
  }

  /** Waits until every event so far is published; throws if one could not be. */
  async flushed(): Promise<void> {
    await this.chain;
    if (this.failed) throw this.failed;
  }
}
