import type { Heredoc } from './ast.js';
import { ShellLex } from './shell-lex.js';

// Blanks may separate `<<` from the delimiter (dockerfile 1.16+); the lexer keeps them in the word.
const heredocWord = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const noEnv = (): undefined => undefined;

export type HeredocHeader = Omit<Heredoc, 'content'>;

/** Reads a heredoc opener such as `<<EOF`, `<<-"EOF"` or `3<<EOF`; undefined when `word` is not one. */
export function parseHeredocWord(word: string): HeredocHeader | undefined {
  const m = heredocWord.exec(word);
  if (!m || m[3] === '') return undefined;
  const rest = m[3]!;
  const words = new ShellLex({ skipUnsetEnv: true }).process(rest, noEnv).words;
  if (words.length !== 1) return undefined;
  const raw = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).process(rest, noEnv).words;
  const quotes = (s: string): number => (s.match(/['"]/g) ?? []).length;
  return {
    name: words[0]!,
    fileDescriptor: Number(m[1] || '0'),
    // Any quoted part of the delimiter disables expansion of the body, as in sh.
    expand: quotes(words[0]!) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
  };
}

/** Every heredoc opener on an instruction line, in order. */
export function heredocsInLine(line: string): HeredocHeader[] {
  let words: string[];
  try {
    words = new ShellLex({ skipUnsetEnv: true, rawQuotes: true, rawEscapes: true }).process(line, noEnv).words;
  } catch {
    return [];
  }
  return words.map(parseHeredocWord).filter((h): h is HeredocHeader => h !== undefined);
}

/** `<<-`: strips leading tabs from every line of the body. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
