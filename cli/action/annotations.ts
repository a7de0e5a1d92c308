import { isAbsolute, relative } from 'node:path';

/** A message of the CLI that points at a Dockerfile line: `error: FILE:LINE: MESSAGE`, or a WARNING. */
export interface LineMessage {
  level: 'error' | 'warning';
  file: string;
  line: number;
  message: string;
}

/** Reads the CLI's one-line error or warning; undefined when it names no file and line. */
export function parseLineMessage(text: string): LineMessage | undefined {
  const m = /^(error|WARNING): (.+?):(\d+): (.*)$/.exec(text);
  if (!m) return undefined;
  return { level: m[1] === 'error' ? 'error' : 'warning', file: m[2]!, line: Number(m[3]), message: m[4]! };
}

/** The file as an annotation names it: relative to the workspace (the repository root) when inside it. */
export function annotationPath(file: string, workspace: string | undefined): string {
  if (!workspace || !isAbsolute(file)) return file;
  const rel = relative(workspace, file);
  return rel.startsWith('..') ? file : rel;
}
