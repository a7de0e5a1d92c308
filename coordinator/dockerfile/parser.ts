import type { Heredoc, InstructionNode, ParsedDockerfile, ParseWarning, ParserDirectives } from './ast.js';
import { DockerfileError, withLocation } from './errors.js';
import { heredocsInLine } from './heredoc.js';
import { lineParsers } from './line-parsers.js';
import { splitCommand } from './split-command.js';

const heredocCommands = new Set(['add', 'copy', 'run']);
const directiveLine = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const knownDirectives = new Set(['syntax', 'escape', 'check']);

/** Parser directives (`# escape=`…) are only read at the very top, before any other line. */
class DirectiveReader {
  private done = false;
  private readonly seen = new Set<string>();
  readonly directives: ParserDirectives = { escape: '\\' };

  /** Returns true when `line` was a directive. */
  read(line: string): boolean {
    if (this.done) return false;
    const m = line.startsWith('#') ? directiveLine.exec(line.slice(1).replace(/^\s+/u, '')) : null;
    const key = m?.[1]!.toLowerCase();
    if (!m || !key || !knownDirectives.has(key)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2]!;
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') throw new Error(`invalid escape token '${value}' does not match \` or \\`);
      this.directives.escape = value;
    } else if (key === 'syntax') this.directives.syntax = value;
    else this.directives.check = value;
    return true;
  }
}

/** Splits into lines that keep their line endings, as heredoc bodies need them. */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  if (lines[0]?.startsWith('\uFEFF')) lines[0] = lines[0].slice(1);
  return lines;
}

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const trimLeadingSpace = (s: string): string => s.replace(/^\s+/u, '');
const isComment = (s: string): boolean => trimLeadingSpace(s).startsWith('#');

function continuationRegex(escape: string): RegExp {
  const e = escape === '\\' ? '\\\\' : escape;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Removes a trailing line-continuation token; `continued` tells whether there was one. */
function trimContinuation(line: string, re: RegExp): { text: string; continued: boolean } {
  return re.test(line) ? { text: line.replace(re, '$1'), continued: true } : { text: line, continued: false };
}

function nodeFromLine(line: string, escape: string, comments: string[]): InstructionNode {
  const { command, flags, rest } = splitCommand(line);
  const node: InstructionNode = { command, flags, args: [], json: false, heredocs: [], original: line, startLine: 0, endLine: 0, comments };
  if (command === 'onbuild') {
    if (rest !== '') node.sub = nodeFromLine(rest, escape, []);
    return node;
  }
  const parse = lineParsers[command];
  // Unknown instructions parse here and are rejected with a suggestion when they are typed.
  if (parse) Object.assign(node, parse(rest, escape));
  return node;
}

function canContainHeredoc(node: InstructionNode): boolean {
  const target = node.command === 'onbuild' && node.sub ? node.sub : node;
  return heredocCommands.has(target.command) && !target.json;
}

/**
 * Parses Dockerfile text into instruction nodes. Follows BuildKit's parser rule for rule: directives,
 * continuation lines (comments and blank lines inside them are skipped), heredocs, line numbers.
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = splitLines(text);
  const reader = new DirectiveReader();
  const instructions: InstructionNode[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let lineNo = 0;
  let i = 0;

  const readDirective = (line: string): boolean => {
    try {
      return reader.read(line);
    } catch (err) {
      throw withLocation(err, lineNo + 1);
    }
  };

  while (i < lines.length) {
    const raw = lines[i++]!;
    if (isComment(raw)) {
      const comment = trimNewline(trimLeadingSpace(raw)).slice(1).trim();
      comments = comment === '' ? [] : [...comments, comment];
    }
    let first = trimLeadingSpace(trimNewline(raw));
    if (readDirective(first)) comments = comments.slice(0, -1);
    if (isComment(first)) first = '';
    lineNo++;
    const startLine = lineNo;
    const contRe = continuationRegex(reader.directives.escape);
    let { text: logical, continued } = trimContinuation(first, contRe);
    if (!continued && logical === '') continue;

    let emptyContinuation = false;
    while (continued && i < lines.length) {
      const next = lines[i++]!;
      lineNo++;
      if (isComment(next)) continue;
      const body = trimNewline(next);
      if (trimLeadingSpace(body) === '') {
        emptyContinuation = true;
        continue;
      }
      const part = trimContinuation(body, contRe);
      logical += part.text;
      continued = part.continued;
    }
    if (emptyContinuation) warnings.push({ message: `Empty continuation line found in: ${logical}`, line: lineNo });

    let node: InstructionNode;
    try {
      node = nodeFromLine(logical, reader.directives.escape, comments);
    } catch (err) {
      throw withLocation(err, startLine, lineNo);
    }

    if (canContainHeredoc(node) && logical.includes('<<')) {
      let headers;
      try {
        headers = heredocsInLine(logical);
      } catch (err) {
        throw withLocation(err, startLine, lineNo);
      }
      for (const header of headers) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const bodyLine = lines[i++]!;
          lineNo++;
          let candidate = trimNewline(bodyLine);
          if (header.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === header.name) {
            terminated = true;
            break;
          }
          content += bodyLine;
        }
        if (!terminated) throw new DockerfileError(`unterminated heredoc ${header.name}`, startLine, lineNo);
        const heredoc: Heredoc = { ...header, content };
        (node.command === 'onbuild' && node.sub ? node.sub : node).heredocs.push(heredoc);
        if (node.command === 'onbuild') node.heredocs.push(heredoc);
      }
    }

    node.startLine = startLine;
    node.endLine = lineNo;
    if (node.sub) {
      node.sub.startLine = startLine;
      node.sub.endLine = lineNo;
    }
    instructions.push(node);
    comments = [];
  }

  if (instructions.length === 0) throw new DockerfileError('file with no instructions', Math.max(lineNo, 1));
  return { instructions, directives: reader.directives, warnings };
}

