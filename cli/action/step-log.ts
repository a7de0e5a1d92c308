import type { ProgressRecord } from '../../coordinator/progress/progress.js';

/** One step (vertex) of the build as the summary shows it. */
export interface StepRow {
  vertex: number;
  name: string;
  /** `hit`/`miss` for Dockerfile instructions (`[stage n/m] ...`), `ran` for the rest (context, export). */
  cache: 'hit' | 'miss' | 'ran';
  reason?: string;
  /** Milliseconds from start to end; undefined while running. */
  durationMs?: number;
  error?: string;
}

/** How the log is folded: the workflow commands the Action prints. */
export interface LogSink {
  line(text: string): void;
  startGroup(title: string): void;
  endGroup(): void;
}

/** The group a step belongs to: its stage (`[build 2/4] RUN` -> `build`), `internal`, or the export. */
export function stageOf(name: string): string {
  const m = /^\[([^\]]+?)(?: \d+\/\d+)?\]/.exec(name);
  if (m) return m[1]!;
  return name.startsWith('exporting') ? 'export' : 'other';
}

/** A step of a Dockerfile stage, numbered as BuildKit numbers them. */
function isInstruction(name: string): boolean {
  return /^\[[^\]]* \d+\/\d+\] /.test(name);
}

const missPrefix = 'cache miss: ';

/**
 * Reads `--progress rawjson` records: prints them as BuildKit's plain progress, folded into one log
 * group per stage (a step of another stage closes the group and opens that stage's, since the runner's
 * groups cannot nest or interleave), and keeps one row per step for the summary.
 */
export class StepLog {
  private readonly rows = new Map<number, StepRow>();
  private readonly started = new Map<number, number>();
  private open: string | undefined;

  constructor(private readonly sink: LogSink) {}

  private enter(stage: string | undefined): void {
    if (this.open === stage) return;
    if (this.open !== undefined) this.sink.endGroup();
    this.open = stage;
    if (stage !== undefined) this.sink.startGroup(`stage ${stage}`);
  }

  apply(r: ProgressRecord): void {
    const at = Date.parse(r.time);
    if (r.event === 'started') {
      // An instruction that does not come from the cache is a miss, with a reason when the explainer gave one.
      this.rows.set(r.vertex, { vertex: r.vertex, name: r.name, cache: isInstruction(r.name) ? 'miss' : 'ran' });
      this.started.set(r.vertex, at);
    }
    const row = this.rows.get(r.vertex);
    if (!row) return;
    this.enter(stageOf(row.name));
    const end = (): void => void (row.durationMs = at - (this.started.get(r.vertex) ?? at));
    switch (r.event) {
      case 'started':
        this.sink.line(`#${r.vertex} ${r.name}`);
        break;
      case 'log':
        this.sink.line(`#${r.vertex} ${r.line}`);
        break;
      case 'note':
        if (r.note.startsWith(missPrefix)) row.reason = r.note.slice(missPrefix.length);
        this.sink.line(`#${r.vertex} ${r.note}`);
        break;
      case 'cached':
        row.cache = 'hit';
        end();
        this.sink.line(`#${r.vertex} CACHED`);
        break;
      case 'done':
        end();
        this.sink.line(`#${r.vertex} DONE ${((row.durationMs ?? 0) / 1000).toFixed(1)}s`);
        break;
      case 'error':
        row.error = r.error;
        end();
        this.sink.line(`#${r.vertex} ERROR: ${r.error}`);
        break;
    }
  }

  /**
   * A line that is not a record (a warning, the error, a failed step's last output lines): printed
   * outside any group. Step output must not act as a workflow command (`::error::`, `::stop-commands::`).
   */
  text(line: string): void {
    this.enter(undefined);
    this.sink.line(line.startsWith('::') ? ` ${line}` : line);
  }

  /** Closes the open group. */
  close(): void {
    this.enter(undefined);
  }

  steps(): StepRow[] {
    return [...this.rows.values()];
  }
}

/** Parses one line of the CLI's stderr as a progress record, or undefined for any other line. */
export function parseRecord(line: string): ProgressRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const r = JSON.parse(line) as Partial<ProgressRecord>;
    return typeof r.vertex === 'number' && typeof r.time === 'string' && typeof r.event === 'string' ? (r as ProgressRecord) : undefined;
  } catch {
    return undefined;
  }
}
