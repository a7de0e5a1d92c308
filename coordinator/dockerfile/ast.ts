/** One heredoc attached to RUN, COPY or ADD (`<<EOF`, `<<-EOF`, `3<<"EOF"`). */
export interface Heredoc {
  name: string;
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from body lines. */
  chomp: boolean;
  /** The body exactly as read, line endings included. */
  content: string;
}

/**
 * One instruction of the Dockerfile as written: nothing is expanded yet.
 * Mirrors what BuildKit's parser keeps, so that the conformance dump can be reproduced.
 */
export interface InstructionNode {
  /** Lower-case keyword, e.g. `run`. */
  command: string;
  /** Builder flags such as `--from=build`, verbatim. */
  flags: string[];
  /** Arguments after the per-instruction line parser. ENV/LABEL give key, value, separator triples. */
  args: string[];
  /** The arguments were written as a JSON array (exec form). */
  json: boolean;
  /** ONBUILD's nested instruction. */
  sub?: InstructionNode;
  heredocs: Heredoc[];
  /** The logical line, continuations joined. */
  original: string;
  startLine: number;
  endLine: number;
  /** Comment lines directly above the instruction. */
  comments: string[];
}

export interface ParserDirectives {
  escape: '\\' | '`';
  syntax?: string;
  check?: string;
}

export interface ParseWarning {
  message: string;
  line: number;
}

export interface ParsedDockerfile {
  instructions: InstructionNode[];
  directives: ParserDirectives;
  warnings: ParseWarning[];
}
