/**
 * Build progress in BuildKit's formats. `plain` prints step-prefixed lines for CI logs
 * (`#3 [build 2/4] RUN make`, `#3 0.412 output`, `#3 DONE 1.2s`); `tty` redraws a live view of the
 * running steps with their last lines; `quiet` prints nothing; `rawjson` prints one `ProgressRecord`
 * per line, for programs (the GitHub Action) that render progress themselves.
 */
export type ProgressMode = 'plain' | 'tty' | 'quiet' | 'rawjson';

/** One line of `--progress rawjson`: an event of vertex (step) `vertex`, at `time` (ISO 8601). */
export type ProgressRecord = { vertex: number; time: string } & (
  | { event: 'started'; name: string }
  | { event: 'log'; line: string }
  | { event: 'cached' }
  | { event: 'done' }
  | { event: 'error'; error: string }
  | { event: 'note'; note: string }
);

/** A record without its vertex and time (distributed over the union, so each event keeps its fields). */
type Body<R> = R extends unknown ? Omit<R, 'vertex' | 'time'> : never;
type RecordBody = Body<ProgressRecord>;

interface Vertex {
  id: number;
  name: string;
  started: number;
  ended?: number;
  state: 'running' | 'done' | 'cached' | 'error';
  lines: string[];
}

export class Progress {
  private nextId = 1;
  private readonly vertices: Vertex[] = [];
  private readonly t0 = Date.now();
  private timer?: NodeJS.Timeout;
  private drawn = 0;

  constructor(
    readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {
    if (mode === 'tty') {
      this.timer = setInterval(() => this.draw(), 150);
      this.timer.unref();
    }
  }

  private record(vertex: number, body: RecordBody): void {
    if (this.mode === 'rawjson') this.out.write(JSON.stringify({ vertex, time: new Date().toISOString(), ...body }) + '\n');
  }

  private secs(ms: number): string {
    return (ms / 1000).toFixed(1) + 's';
  }

  start(name: string): number {
    const v: Vertex = { id: this.nextId++, name, started: Date.now(), state: 'running', lines: [] };
    this.vertices.push(v);
    if (this.mode === 'plain') this.out.write(`\n#${v.id} ${name}\n`);
    this.record(v.id, { event: 'started', name });
    return v.id;
  }

  private get(id: number): Vertex {
    return this.vertices[id - 1]!;
  }

  log(id: number, line: string): void {
    const v = this.get(id);
    v.lines.push(line);
    if (v.lines.length > 6) v.lines.shift();
    if (this.mode === 'plain') this.out.write(`#${id} ${this.secs(Date.now() - v.started).replace('s', '')} ${line}\n`);
    this.record(id, { event: 'log', line });
  }

  cached(id: number): void {
    const v = this.get(id);
    v.state = 'cached';
    v.ended = Date.now();
    if (this.mode === 'plain') this.out.write(`#${id} CACHED\n`);
    this.record(id, { event: 'cached' });
  }

  done(id: number): void {
    const v = this.get(id);
    v.state = 'done';
    v.ended = Date.now();
    if (this.mode === 'plain') this.out.write(`#${id} DONE ${this.secs(v.ended - v.started)}\n`);
    this.record(id, { event: 'done' });
  }

  error(id: number, message: string): void {
    const v = this.get(id);
    v.state = 'error';
    v.ended = Date.now();
    if (this.mode === 'plain') this.out.write(`#${id} ERROR: ${message}\n`);
    this.record(id, { event: 'error', error: message });
  }

  /** One line under a step (a cache-miss reason, a count). */
  note(id: number, text: string): void {
    if (this.mode === 'plain') this.out.write(`#${id} ${text}\n`);
    else this.get(id).lines.push(text);
    this.record(id, { event: 'note', note: text });
  }

  private draw(): void {
    const rows: string[] = [];
    const now = Date.now();
    rows.push(`[+] Building ${this.secs(now - this.t0)} (${this.vertices.filter((v) => v.state !== 'running').length}/${this.vertices.length})`);
    for (const v of this.vertices) {
      const time = this.secs((v.ended ?? now) - v.started);
      const mark = v.state === 'cached' ? 'CACHED' : v.state === 'error' ? 'ERROR' : time;
      rows.push(` ${v.state === 'running' ? '=>' : '=>'} ${v.name.slice(0, 90)}  ${mark}`);
      if (v.state === 'running') for (const l of v.lines.slice(-3)) rows.push(`  => => # ${l.slice(0, 100)}`);
    }
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    this.out.write(up + rows.map((r) => r + '\x1b[K').join('\n') + '\n\x1b[J');
    this.drawn = rows.length;
  }

  /** Final redraw; stops the timer. */
  finish(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.draw();
    }
  }
}
