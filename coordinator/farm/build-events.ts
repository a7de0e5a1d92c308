import type { Redis } from 'ioredis';
import type { BuildEnd } from '../../proto/generated/dockyard/v1/BuildEnd.js';
import type { ProgressEvent } from '../../proto/generated/dockyard/v1/ProgressEvent.js';

/** One output of a finished build, stored as a blob (`local` as a tar of the filesystem). */
export interface StoredOutput {
  index: number;
  digest: string;
  size: number;
}

/**
 * What a build publishes, in order, to its stream in Redis. Any coordinator serving Attach reads the
 * stream from the start, so a client can attach late or again after a coordinator died. A build taken
 * over after its coordinator died starts a new `attempt`; its outputs and end come in one record
 * each, so a client never gets half of a dead attempt's outputs. Never a secret value.
 */
export type FarmEvent =
  | { kind: 'attempt'; attempt: number }
  | { kind: 'progress'; progress: ProgressEvent }
  | { kind: 'outputs'; outputs: StoredOutput[] }
  | { kind: 'end'; end: BuildEnd };

/** How long a finished build's events stay for late attaches and `inspect`: a week, like its job. */
const KEEP_SECONDS = 7 * 24 * 3600;

/** The per-build event streams: `{prefix}:build-events:<id>`. */
export class BuildEventLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(buildId: string): string {
    return `${this.prefix}:build-events:${buildId}`;
  }

  async append(buildId: string, event: FarmEvent): Promise<void> {
    const key = this.key(buildId);
    const multi = this.redis.multi().xadd(key, '*', 'e', JSON.stringify(event));
    if (event.kind === 'end' || event.kind === 'attempt') multi.expire(key, KEEP_SECONDS);
    await multi.exec();
  }

  /** The end record, when the build ended. */
  async end(buildId: string): Promise<BuildEnd | undefined> {
    const last = await this.redis.xrevrange(this.key(buildId), '+', '-', 'COUNT', 1);
    const e = last[0] ? parse(last[0][1]) : undefined;
    return e?.kind === 'end' ? e.end : undefined;
  }

  /** Every event recorded so far (of a finished build: all of them). */
  async read(buildId: string): Promise<FarmEvent[]> {
    const entries = await this.redis.xrange(this.key(buildId), '-', '+');
    return entries.flatMap(([, fields]) => parse(fields) ?? []);
  }

  /**
   * Every event from the first, then new ones as they come, until the end record. `reader` is a
   * connection of its own (XREAD BLOCK holds it); `stopped` ends the wait early.
   */
  async *follow(reader: Redis, buildId: string, stopped: () => boolean, blockMs = 1000): AsyncGenerator<FarmEvent> {
    const key = this.key(buildId);
    let last = '0-0';
    while (!stopped()) {
      const res = (await reader.xread('COUNT', 100, 'BLOCK', blockMs, 'STREAMS', key, last)) as [string, [string, string[]][]][] | null;
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const e = parse(fields);
          if (!e) continue;
          yield e;
          if (e.kind === 'end') return;
        }
      }
    }
  }
}

function parse(fields: string[]): FarmEvent | undefined {
  const i = fields.indexOf('e');
  if (i < 0 || fields[i + 1] === undefined) return undefined;
  try {
    return JSON.parse(fields[i + 1]!) as FarmEvent;
  } catch {
    return undefined;
  }
}
