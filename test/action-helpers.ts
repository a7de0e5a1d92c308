import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';

/** The committed bundle, as action.yml names it. */
export const bundlePath = join(repoRoot, 'dist', 'action', 'index.js');

let checkout: string | undefined;

/**
 * The bundle in a copy of what a runner downloads for `uses:` (the repository's files, no node_modules),
 * outside this tree: anything the bundle failed to include would be missing there.
 */
export function actionEntry(): string {
  if (checkout) return checkout;
  const dir = tempDir('action-checkout');
  chmodSync(dir, 0o755); // readable by a runner user that is not root
  for (const path of ['action.yml', 'package.json', 'proto', 'dist/action/index.js']) cpSync(join(repoRoot, path), join(dir, path), { recursive: true });
  checkout = join(dir, 'dist', 'action', 'index.js');
  return checkout;
}

export interface ActionRun {
  status: number | null;
  /** What the runner reads: log lines and workflow commands (`::error ...`, `::group::`). */
  stdout: string;
  stderr: string;
  outputs: Map<string, string>;
  summary: string;
}

/** Reads a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` ... `DELIMITER` blocks. */
export function readOutputFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out.set(heredoc[1]!, lines.slice(i + 1, end).join('\n'));
      i = end;
    } else if (line.includes('=')) out.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
  }
  return out;
}

/**
 * Runs the bundled Action as the runner does: `node dist/action/index.js`, inputs as INPUT_* variables
 * (named as the runner names them: upper case, hyphens kept), outputs and summary in files, in `workspace`.
 */
export function runAction(inputs: Record<string, string>, o: { workspace: string; env?: NodeJS.ProcessEnv }): ActionRun {
  const dir = tempDir('runner');
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKYARD_DEBUG: '', GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: o.workspace, RUNNER_TEMP: dir, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, ...o.env };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const r = spawnSync(process.execPath, [actionEntry()], { cwd: o.workspace, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs: readOutputFile(readFileSync(outputFile, 'utf8')), summary: readFileSync(summaryFile, 'utf8') };
}
