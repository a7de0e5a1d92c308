/** Severity of a coordinator log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields of one log line: plain values only (never a secret: a log is shipped and kept). */
export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * Structured logs: one JSON object per line (`time`, `level`, `msg`, then the fields), on stderr by
 * default, as log collectors (journald, Kubernetes) read them.
 */
export class JsonLog {
  constructor(
    private readonly out: NodeJS.WritableStream = process.stderr,
    private readonly base: LogFields = {},
  ) {}

  /** A logger adding `fields` to every line (a build id, a worker id). */
  child(fields: LogFields): JsonLog {
    return new JsonLog(this.out, { ...this.base, ...fields });
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries({ ...this.base, ...fields })) if (v !== undefined && !(k in line)) line[k] = v;
    this.out.write(JSON.stringify(line) + '\n');
  }

  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
}
