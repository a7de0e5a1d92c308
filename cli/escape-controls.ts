const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Makes text from a Dockerfile or a server safe to print on a terminal and keeps a message on one line:
 * C0/C1 control characters, DEL and the bidirectional overrides are written as escapes (`\x1b`,
 * `\n`, `\u202e`), as Go's %q does, so an escape sequence in a Dockerfile cannot rewrite the screen.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
