/** A problem in the Dockerfile itself. Carries the 1-based line range so the CLI can print `file:line: message`. */
export class DockerfileError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly endLine?: number,
  ) {
    super(message);
    this.name = 'DockerfileError';
  }
}

/** Attaches a line range to an error that lacks one; keeps the innermost location when there is already one. */
export function withLocation(err: unknown, line: number, endLine = line): DockerfileError {
  if (err instanceof DockerfileError) {
    return err.line === undefined ? new DockerfileError(err.message, line, endLine) : err;
  }
  return new DockerfileError(err instanceof Error ? err.message : String(err), line, endLine);
}
