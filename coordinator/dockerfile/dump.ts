import type { InstructionNode } from './ast.js';

/**
 * BuildKit's AST dump: `(cmd ["--flag"] "arg" ...)`. The conformance corpus is written in this format,
 * with every string quoted the way Go's strconv.Quote does it.
 */
export function dumpNode(node: InstructionNode): string {
  let out = node.command;
  if (node.flags.length > 0) out += ' [' + node.flags.map(goQuote).join(' ') + ']';
  if (node.sub) out += ' (' + dumpNode(node.sub) + ')';
  for (const arg of node.args) out += ' ' + goQuote(arg);
  return out;
}

export function dumpAll(nodes: InstructionNode[]): string {
  return nodes.map((n) => '(' + dumpNode(n) + ')\n').join('');
}

const shortEscapes: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"',
};
const nonPrintable = /[\p{C}\p{Z}]/u;

/** Go's strconv.Quote: short escapes, \xNN for ASCII control bytes, printable Unicode kept as is. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = shortEscapes[ch];
    if (esc) {
      out += esc;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (ch === ' ' || !nonPrintable.test(ch)) out += ch;
    else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}
