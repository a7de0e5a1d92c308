import { ExpectedError } from '../../oci/expected-error.js';

/**
 * Docker's word expansion: quotes, escapes and `$VAR` / `${VAR...}` forms, with the same rules as
 * BuildKit's shell lexer (a subset of POSIX sh: no command substitution, no arithmetic).
 */

export type Lookup = (name: string) => string | undefined;

export interface LexOptions {
  escapeToken?: string;
  /** Keep quote characters in the output (used to detect quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave `$NAME` and `${NAME...}` literally in place when NAME is unset. */
  skipUnsetEnv?: boolean;
}

export interface LexResult {
  /** The expanded string, spacing kept. */
  result: string;
  /** The expanded string split into words the way the shell would. */
  words: string[];
  /** Names whose values were looked up and found. */
  matched: Set<string>;
}

export class ExpansionError extends ExpectedError {}

const EOF = undefined;
type Ch = string | undefined;

const isSpace = (ch: string): boolean => /\s/u.test(ch);
const isDigit = (ch: string): boolean => /\p{Nd}/u.test(ch);
const isLetter = (ch: string): boolean => /\p{L}/u.test(ch);
const specialParams = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

class Words {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }
  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.words;
  }
}

export class ShellLex {
  private chars: string[] = [];
  private pos = 0;
  private lookup: Lookup = () => undefined;
  private matched = new Set<string>();
  private rawEscapes = false;
  readonly escapeToken: string;

  constructor(private readonly opts: LexOptions = {}) {
    this.escapeToken = opts.escapeToken ?? '\\';
  }

  /** Expands `word`; `words` is the result split as the shell would split it. */
  process(word: string, lookup: Lookup): LexResult {
    this.chars = Array.from(word);
    this.pos = 0;
    this.lookup = lookup;
    this.matched = new Set();
    this.rawEscapes = this.opts.rawEscapes ?? false;
    try {
      const { result, words } = this.processStopOn(EOF, this.rawEscapes);
      return { result, words, matched: this.matched };
    } catch (err) {
      throw new ExpansionError(`failed to process ${JSON.stringify(word)}: ${(err as Error).message}`);
    }
  }

  private peek(): Ch {
    return this.chars[this.pos];
  }
  private next(): Ch {
    const ch = this.chars[this.pos];
    if (ch !== EOF) this.pos++;
    return ch;
  }

  private processStopOn(stop: Ch, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === '$') {
          const value = this.processDollar();
          result += value;
          words.addString(value);
        } else if (ch === '<') {
          const value = this.processPossibleHeredoc();
          result += value;
          words.addRaw(value);
        } else if (ch === "'") {
          const value = this.processSingleQuote();
          result += value;
          words.addRaw(value);
        } else if (ch === '"') {
          const value = this.processDoubleQuote();
          result += value;
          words.addRaw(value);
        } else {
          let c = this.next()!;
          if (c === this.escapeToken) {
            if (this.rawEscapes) {
              words.addRaw(c);
              result += c;
            }
            const escaped = this.next();
            if (escaped === EOF) break;
            c = escaped;
            words.addRaw(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== EOF) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  /**
   * `<<` keeps the blanks after it in the same word, so that `<< EOF` is read as one heredoc opener
   * (dockerfile 1.16+).
   */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let result = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) result += this.next();
    return result;
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a single quote cannot be escaped inside.
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal except $ and the escape token, which escapes only " $ and itself.
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (ch === '$') {
        result += this.processDollar();
        continue;
      }
      let c = this.next()!;
      if (c === this.escapeToken) {
        if (this.rawEscapes) result += c;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.escapeToken) c = this.next()!;
      }
      result += c;
    }
  }

  private env(name: string): string | undefined {
    const v = this.lookup(name);
    if (v !== undefined) this.matched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.env(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new Error("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
    const name = this.processName();
    let op = this.next();
    let ops = op ?? '';
    let nullIsUnset = false;
    if (op === EOF) throw new Error("syntax error: missing '}'");
    if (op === '}') {
      const value = this.env(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      ops += op ?? '';
      // `:` before a trim operator is an error (dockerfile 1.10+), before the word is read.
      if (op === '#' || op === '%') throw new Error(`unsupported modifier (${ops}) in substitution`);
    }
    // After `:` every operator reads its word first, so skip-unset mode keeps even an unsupported
    // form such as `${X:=a}` literally (heredoc detection lexes whole RUN lines that way).
    if (nullIsUnset || op === '+' || op === '-' || op === '?' || op === '#' || op === '%') {
      let word: string;
      try {
        word = this.processStopOn('}', op === '#' || op === '%').result;
      } catch (err) {
        if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
        throw err;
      }
      const value = this.env(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${ops}${word}}`;
      const empty = value === undefined || (nullIsUnset && value === '');
      switch (op) {
        case '-':
          return empty ? word : value!;
        case '+':
          return empty ? '' : word;
        case '?':
          if (value === undefined) throw new Error(`${name}: ${word || 'is not allowed to be unset'}`);
          if (empty) throw new Error(`${name}: ${word || 'is not allowed to be empty'}`);
          return value;
        case '#':
        case '%': {
          const greedy = word.startsWith(op);
          const pattern = greedy ? word.slice(1) : word;
          return op === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
        }
        default:
          throw new Error(`unsupported modifier (${ops}) in substitution`);
      }
    }
    if (op === '/') {
      const replaceAll = this.peek() === '/';
      if (replaceAll) this.next();
      let pattern: string;
      let replacement: string;
      try {
        pattern = this.processStopOn('/', true).result;
      } catch (err) {
        if (this.peek() === EOF) throw new Error("syntax error: missing '/' in ${}");
        throw err;
      }
      try {
        replacement = this.processStopOn('}', true).result;
      } catch (err) {
        if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
        throw err;
      }
      const value = this.env(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
      const re = shellPatternToRegex(pattern, true, false);
      return replaceAll ? replaceEveryMatch(value ?? '', re, replacement) : (value ?? '').replace(re, () => replacement);
    }
    throw new Error(`unsupported modifier (${ops}) in substitution`);
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && specialParams.has(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }
}

/**
 * Shell wildcard pattern (`*`, `?`, backslash escapes) to a regular expression. The wildcards stop
 * at a newline, as Go's `.` does in BuildKit's conversion.
 */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i]!;
    if (tok === '*') out += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (tok === '?') out += '[^\\n]';
    else if (tok === '\\') {
      const nxt = chars[i + 1];
      // `\}` and `\/` only protect the ${} syntax; the backslash is not part of the pattern.
      if (nxt === '}' || nxt === '/') continue;
      if (nxt !== '*' && nxt !== '?' && nxt !== '\\') throw new Error(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nxt ?? ''}'`);
      out += '\\' + nxt;
      i++;
    } else out += tok.replace(/[[\]{}.+()|^$]/, '\\$&');
  }
  return new RegExp(out, 'u');
}

/**
 * `${V//pattern/repl}`, with the semantics of Go's `Regexp.ReplaceAllString` that BuildKit uses:
 * matches do not overlap, an empty match right after a match is not replaced, and `$` in the
 * replacement is a template reference.
 */
function replaceEveryMatch(value: string, re: RegExp, replacement: string): string {
  const global = new RegExp(re.source, re.flags + 'g');
  let out = '';
  let lastEnd = 0;
  for (let searchPos = 0; searchPos <= value.length; ) {
    global.lastIndex = searchPos;
    const m = global.exec(value);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expandTemplate(replacement, m[0]);
    lastEnd = end;
    // Always advance by at least one character.
    const width = (value.codePointAt(searchPos) ?? 0) > 0xffff ? 2 : 1;
    searchPos = Math.max(searchPos + width, end);
  }
  return out + value.slice(lastEnd);
}

/**
 * Go's `Regexp.Expand` for a pattern without groups: `$$` is `$`, `$0`/`${0}` the match, any other
 * `$name`/`${name}` nothing, and a `$` not followed by a name stays.
 */
function expandTemplate(template: string, match: string): string {
  return template.replace(/\$(?:\$|\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))?/gu, (all, braced?: string, bare?: string) => {
    if (all === '$$') return '$';
    const name = braced ?? bare;
    if (name === undefined) return '$';
    return name === '0' ? match : '';
  });
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Reverses a pattern without separating an escape from the character it escapes. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift('\\' + chars[i + 1]);
      i += 2;
    } else {
      out.unshift(chars[i]!);
      i++;
    }
  }
  return out.join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // Shortest/longest rightmost match = leftmost match on the reversed strings.
  const reversed = Array.from(value).reverse().join('');
  return Array.from(trimPrefix(reversePattern(pattern), reversed, greedy)).reverse().join('');
}

/** Single-word expansion with default options: what most instructions use. */
export function expandWord(word: string, lookup: Lookup, escapeToken = '\\'): string {
  return new ShellLex({ escapeToken }).process(word, lookup).result;
}
