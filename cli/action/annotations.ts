import { isAbsolute, relative } from 'node:path';

/** A message of the CLI that points at a line of the Dockerfile: `error: FILE:LINE: MESSAGE`, or a WARNING. */
export interface LineMessage {
  level: 'error' | 'warning';
  line: number;
  message: string;
}

/**
 * Reads the CLI's one-line error or warning about `dockerfile` (named as passed with -f, as the CLI
 * names it); undefined for any other line, such as errors naming a registry or a server.
 */
export function parseLineMessage(text: string, dockerfile: string): LineMessage | undefined {
  for (const level of ['error', 'WARNING'] as const) {
    const prefix = `${level}: ${dockerfile}:`;
    if (!text.startsWith(prefix)) continue;
    const m = /^(\d+): (.*)$/.exec(text.slice(prefix.length));
    if (m) return { level: level === 'error' ? 'error' : 'warning', line: Number(m[1]), message: m[2]! };
  }
  return undefined;
}

/** The file as an annotation names it: relative to the workspace (the repository root) when inside it. */
export function annotationPath(file: string, workspace: string | undefined): string {
  if (!workspace || !isAbsolute(file)) return file;
  const rel = relative(workspace, file);
  return rel.startsWith('..') ? file : rel;
}
