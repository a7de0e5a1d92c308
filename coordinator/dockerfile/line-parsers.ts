/**
 * Per-instruction argument parsing, before any expansion. Each instruction has its own rules
 * (JSON or shell form, key=value pairs, whitespace lists); they match BuildKit's parser so that the
 * same Dockerfile gives the same arguments.
 */

export interface ParsedArgs {
  args: string[];
  json: boolean;
}

const whitespace = /[\t\v\f\r ]+/;
const isSpace = (ch: string): boolean => /\s/u.test(ch);
const none: ParsedArgs = { args: [], json: false };

/** Splits on blanks, keeping quotes and escapes in the words: expansion removes them later. */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (atEnd) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    // In quotes: the escape token works except inside single quotes.
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos]!;
    }
    word += ch;
  }
  return words;
}

/** ENV and LABEL: the legacy `KEY value words` form or `k=v k2=v2`. Gives key, value, separator triples. */
function parseNameVal(rest: string, keyword: string, escape: string): ParsedArgs {
  const words = parseWords(rest, escape);
  if (words.length === 0) return none;
  if (!words[0]!.includes('=')) {
    const at = rest.search(whitespace);
    if (at < 0) throw new Error(`${keyword} must have two arguments`);
    const value = rest.slice(at).replace(/^[\t\v\f\r ]+/, '');
    return { args: [rest.slice(0, at), value, ''], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args, json: false };
}

function parseNameOrNameVal(rest: string, escape: string): ParsedArgs {
  return { args: parseWords(rest, escape), json: false };
}

function parseWhitespaceList(rest: string): ParsedArgs {
  if (rest === '') return none;
  return { args: rest.split(whitespace), json: false };
}

function parseString(rest: string): ParsedArgs {
  return rest === '' ? none : { args: [rest], json: false };
}

class NotStringArrayError extends Error {
  constructor() {
    super('when using JSON array syntax, arrays must be comprised of strings only');
  }
}

/** The exec form. Returns undefined when `rest` is not a JSON array, so the caller falls back to shell form. */
function parseJSON(rest: string): ParsedArgs | undefined {
  const trimmed = rest.replace(/^\s+/u, '');
  if (!trimmed.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) throw new NotStringArrayError();
  return { args: value, json: true };
}

function parseMaybeJSON(rest: string): ParsedArgs {
  if (rest === '') return none;
  return parseJSON(rest) ?? { args: [rest], json: false };
}

function parseMaybeJSONToList(rest: string): ParsedArgs {
  return parseJSON(rest) ?? parseWhitespaceList(rest);
}

/** HEALTHCHECK: a type word (CMD, NONE) then a command in either form. */
function parseHealthConfig(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  if (sep === 0) return none;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  const cmd = parseMaybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

export type LineParser = (rest: string, escape: string) => ParsedArgs;

/** The 18 instructions and how each reads its arguments. ONBUILD is handled by the parser itself. */
export const lineParsers: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, escape) => parseNameVal(rest, 'ENV', escape),
  expose: parseWhitespaceList,
  from: parseWhitespaceList,
  healthcheck: parseHealthConfig,
  label: (rest, escape) => parseNameVal(rest, 'LABEL', escape),
  maintainer: parseString,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

export const instructionNames = [...Object.keys(lineParsers), 'onbuild'].sort();
