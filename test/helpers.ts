import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildContext } from '../coordinator/context/build-context.js';
import type { Step } from '../coordinator/plan/graph.js';
import type { BuildPlan, PlanOptions } from '../coordinator/plan/plan-types.js';
import { planBuild } from '../coordinator/plan/planner.js';
import { parsePlatform } from '../oci/platform.js';

/** The repository root (tests run from dist/test). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'dist', 'bin', 'dockyard.cjs');
/** The `dockyard` command as installed (package.json's `bin`): a shell script that runs cliPath. */
export const commandPath = join(repoRoot, 'dist', 'bin', 'dockyard');

/** The options the `dockyard` command gives node for `worker` (its `exec node ...` line): for a process that must run as a worker does. */
export function workerNodeOptions(): string[] {
  const m = /^\s*coordinator \| worker\) exec node (.*?) "\$\{self%\/\*\}\/dockyard\.cjs" "\$@" ;;$/m.exec(readFileSync(commandPath, 'utf8'));
  if (!m) throw new Error(`${commandPath} has no exec line for worker`);
  return m[1]!.split(' ');
}

/**
 * BuildKit's parser corpus, read from ../shared where CI places it; it is never copied in. Called
 * inside a describe: a missing corpus fails that suite instead of leaving it with no cases.
 */
export function conformanceCorpus(): string {
  const dir = process.env.DOCKYARD_CONFORMANCE_DIR ?? join(repoRoot, '..', 'shared', 'conformance', 'buildkit-parser');
  if (!existsSync(join(dir, 'testfiles'))) throw new Error(`conformance corpus missing at ${dir}: clone the repo beside ../shared or set DOCKYARD_CONFORMANCE_DIR`);
  return dir;
}

const scratch: string[] = [];
process.on('exit', () => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `dockyard-${prefix}-`));
  scratch.push(dir);
  return dir;
}

/** A TCP port free on loopback now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh directory holding `files` (path -> content). */
export function makeDir(files: Record<string, string | Buffer> = {}): string {
  const dir = tempDir();
  for (const [path, content] of Object.entries(files)) writeFile(dir, path, content);
  return dir;
}

export function writeFile(dir: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: opts.cwd, input: opts.input, encoding: 'utf8', env: { ...process.env, DOCKYARD_DEBUG: '', ...opts.env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Plans `dockerfile` against a context directory (empty unless given). */
export function plan(dockerfile: string, opts: Partial<Omit<PlanOptions, 'context'>> & { contextDir?: string } = {}): Promise<BuildPlan> {
  const dir = opts.contextDir ?? makeDir();
  return planBuild({
    dockerfileName: 'Dockerfile',
    dockerfileText: dockerfile,
    context: () => BuildContext.open(dir),
    buildArgs: new Map(),
    platforms: [],
    buildPlatform: parsePlatform('linux/amd64'),
    labels: new Map(),
    secretIds: new Set(),
    ...opts,
  });
}

/** The step recorded for the instruction on `line` of the first target (or the given one). */
export function stepAt(p: BuildPlan, line: number, target = 0): Step {
  for (const s of p.targets[target]!.stages) {
    for (const e of s.entries) {
      if (e.line === line && e.step) return p.steps.find((st) => st.key === e.step)!;
    }
  }
  throw new Error(`no step on line ${line}`);
}

/** The image config of the first target. */
export function imageConfig(p: BuildPlan, target = 0): Record<string, unknown> {
  return p.targets[target]!.image.config as Record<string, unknown>;
}
