/**
 * Where a no-op rebuild of issue #9's project spends its time (`bench/project.bench.ts` builds the
 * same project): medians of BENCH_RUNS (default 15) no-op builds traced with DOCKYARD_TRACE, by phase;
 * then, in fresh processes as a build starts, the context's open, find's walk and `COPY src/`'s
 * remembered checksum through our modules (and the parse and selection a changed context pays), and a
 * bare readdirSync/lstatSync walk of the same tree, twice in one process (the first pass is what any
 * short-lived process pays).
 * Needs root (the first build runs RUN steps). Run: `npm run bench:noop`.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildContext } from '../coordinator/context/build-context.js';
import { ContextHashStore } from '../coordinator/context/file-hashes.js';
import { selectFromContext, selectionChecksum } from '../coordinator/context/selection.js';
import { commandPath, repoRoot as repo } from '../test/helpers.js';
import { makeProject } from './project-tree.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const busyboxDir = process.env.DOCKYARD_BUSYBOX_DIR ?? '/var/lib/dockyard/busybox';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `--context PROJECT CACHE`: in ms, as JSON: the context's open, find's walk (awaited at once, where a
 * build overlaps it with planning), the `COPY src/` checksum remembered from the last build (`CACHE`
 * holds it), and what a changed context pays instead: parsing the walk and the selection itself.
 */
async function contextMode(project: string, cache: string): Promise<void> {
  const t0 = performance.now();
  const ctx = BuildContext.open(project, join(project, 'Dockerfile'), new ContextHashStore(cache));
  const t1 = performance.now();
  await ctx.load();
  const t2 = performance.now();
  selectionChecksum(ctx, 'src/');
  const t3 = performance.now();
  ctx.entries();
  const t4 = performance.now();
  selectFromContext(ctx, 'src/');
  const t5 = performance.now();
  console.log(JSON.stringify({ open: t1 - t0, find: t2 - t1, remembered: t3 - t2, parse: t4 - t3, select: t5 - t4 }));
}

/** `--bare PROJECT`: the tree walked with readdirSync and lstatSync only, twice, in ms, as JSON. */
function bareMode(project: string): void {
  const pass = (): number => {
    const t0 = performance.now();
    const pending = [''];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      for (const name of readdirSync(join(project, dir))) {
        const rel = dir === '' ? name : `${dir}/${name}`;
        if (lstatSync(join(project, rel)).isDirectory()) pending.push(rel);
      }
    }
    return performance.now() - t0;
  };
  console.log(JSON.stringify({ first: pass(), second: pass() }));
}

function run(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Medians of `n` JSON lines printed by this file's `mode` in fresh processes. */
function fresh(n: number, mode: string[]): Record<string, number> {
  const rows = Array.from({ length: n }, () => JSON.parse(run([process.execPath, fileURLToPath(import.meta.url), ...mode])) as Record<string, number>);
  return Object.fromEntries(Object.keys(rows[0]!).map((k) => [k, median(rows.map((r) => r[k]!))]));
}

const PHASES: [string, string, string][] = [
  ['exec to the build command', '', 'cli: build command'],
  ['set-up (walk started, engine loaded, lease)', 'cli: build command', 'plan start'],
  ['planning (walk awaited, selection, keys)', 'plan start', 'plan done'],
  ['cache lookups and the image', 'plan done', 'image layers ready'],
  ['records, export, exit of the build', 'image layers ready', 'cli: build returned'],
  ['whole build, as traced', '', 'cli: build returned'],
];

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'dockyard-noop-'));
  try {
    const project = join(work, 'project');
    const cache = join(work, 'cache');
    const layout = join(work, 'busybox-layout');
    makeProject(project);
    const dockyard = (args: string[], env?: NodeJS.ProcessEnv): string => run([commandPath, ...args], env);
    dockyard(['build', '--progress', 'quiet', '--cache-dir', join(work, 'base-cache'), '--build-context', `busybox-bin=${busyboxDir}`, '-t', 'busybox:latest', '-o', `type=oci,dest=${layout},tar=false`, join(repo, 'examples', 'busybox')]);
    const build = ['build', '--progress', 'quiet', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${layout}`, '-o', `type=oci,dest=${join(work, 'out')},tar=false`, project];
    // The cold build, and one no-op that writes the program's code cache if none is there yet.
    dockyard(build);
    dockyard(build);
    const traces = Array.from({ length: RUNS }, () => {
      const at = new Map<string, number>([['', 0]]);
      for (const m of dockyard(build, { ...process.env, DOCKYARD_TRACE: '1' }).matchAll(/^\[trace +(\d+)\] (.*)$/gm)) at.set(m[2]!, Number(m[1]));
      return at;
    });
    console.log(`no-op rebuild of the project (3,000-file context), ${commandPath}; medians of ${RUNS}`);
    for (const [label, from, to] of PHASES) console.log(`  ${label.padEnd(42)} ${median(traces.map((t) => t.get(to)! - t.get(from)!)).toFixed(0).padStart(5)} ms`);
    const ctx = fresh(RUNS, ['--context', project, cache]);
    const f = (k: string): string => `${ctx[k]!.toFixed(1)} ms`;
    console.log(`in fresh processes: the context's open ${f('open')}, find's walk ${f('find')}, COPY src/'s remembered checksum ${f('remembered')}; a changed context's parse ${f('parse')} and selection ${f('select')}`);
    const bare = fresh(RUNS, ['--bare', project]);
    console.log(`a bare readdirSync/lstatSync walk of the same tree: ${bare.first!.toFixed(1)} ms in a fresh process, ${bare.second!.toFixed(1)} ms the second time`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--context') void contextMode(args[0]!, args[1]!);
else if (mode === '--bare') bareMode(args[0]!);
else main();
