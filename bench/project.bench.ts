/**
 * A project of realistic size, Dockyard against BuildKit (Debian's docker.io 20.10) and buildah in one
 * run: cold build, no-op rebuild, rebuild after editing one source file, medians and ratios, and the
 * peak RSS of each Dockyard build (`/usr/bin/time -v`). The three stages are issue #9's:
 *   deps:  one RUN writes 40 files of 1 MB of text;
 *   build: copies /deps, copies a 3,000-file 18 MB source tree, one RUN reads every file and tars the tree;
 *   final: copies /deps and the tar.
 * The tree is generated from a fixed seed, so every run builds the same bytes.
 * Needs root and `bash bench/setup-peers.sh`. Run: `npm run bench:project` (BENCH_RUNS, default 5;
 * BENCH_PEERS=0 measures Dockyard alone; BENCH_KEEP=1 keeps the work directory and prints it;
 * BENCH_CLI=PATH measures another build's CLI; BENCH_CLI_BEFORE=PATH measures one more, an older
 * build's, in the same rounds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandPath, repoRoot as repo } from '../test/helpers.js';
import { baseCacheTemplate, Buildah, Dockerd, have } from './peers.js';
import { EDITED, makeProject } from './project-tree.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PEERS = process.env.BENCH_PEERS !== '0';
// BENCH_CLI: another build's command instead of this one's (a worktree's dist/bin/dockyard, say; an
// older one's dist/bin/dockyard.cjs runs with this node).
const cli = process.env.BENCH_CLI ?? commandPath;
const busyboxDir = process.env.DOCKYARD_BUSYBOX_DIR ?? '/var/lib/dockyard/busybox';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function dockyard(args: string[], timeFile?: string, path = cli): void {
  const command = path.endsWith('.cjs') ? [process.execPath, path] : [path];
  const argv = timeFile ? ['/usr/bin/time', '-v', '-o', timeFile, ...command, ...args] : [...command, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`dockyard ${args.join(' ')} failed: ${r.stderr}`);
}

/** Peak RSS in MB from `/usr/bin/time -v`'s report. */
function peakRss(timeFile: string): number {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function timed(fn: () => void): number {
  // What the previous build left to write back (often another tool's) is flushed before the clock starts.
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

interface Tool {
  name: string;
  /** Forgets the previous build's cache (outside the timing). */
  reset(): void;
  build(): void;
}

interface Figures {
  cold: number;
  noop: number;
  incr: number;
}

/** One round of one tool: cold, no-op, one edit (the edit before the cold build is undone first). */
function round(t: Tool, i: number, edit: (round: number, edited: boolean) => void): Figures {
  edit(i, false);
  t.reset();
  const cold = timed(() => t.build());
  const noop = timed(() => t.build());
  edit(i, true);
  return { cold, noop, incr: timed(() => t.build()) };
}

/**
 * Rounds interleave the tools (round 1 of each, then round 2...), so that a change in the machine's
 * load during the run affects them alike and the ratios stay meaningful. Each round starts with the
 * next tool, so that none always follows the same one (a daemon's work after its build, say).
 */
function measure(tools: Tool[], edit: (round: number, edited: boolean) => void): Record<string, Figures> {
  const all = new Map<string, Figures[]>(tools.map((t) => [t.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < tools.length; k++) {
      const t = tools[(i + k) % tools.length]!;
      all.get(t.name)!.push(round(t, i, edit));
    }
  }
  const out: Record<string, Figures> = {};
  const s = (ms: number): string => (ms / 1000).toFixed(2).padStart(6);
  for (const t of tools) {
    const runs = all.get(t.name)!;
    const r = { cold: median(runs.map((x) => x.cold)), noop: median(runs.map((x) => x.noop)), incr: median(runs.map((x) => x.incr)) };
    console.log(`  ${t.name.padEnd(9)} cold ${s(r.cold)} s   no-op ${s(r.noop)} s   one edit ${s(r.incr)} s`);
    out[t.name] = r;
  }
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dockyard-project-'));
  const project = join(work, 'project');
  makeProject(project);
  const original = readFileSync(join(project, EDITED), 'utf8');
  const edit = (round: number, edited: boolean): void => writeFileSync(join(project, EDITED), `${original}// round ${round}${edited ? ', edited' : ''}\n`);

  const busyboxTar = join(work, 'busybox.tar');
  const busyboxLayout = join(work, 'busybox-layout');
  dockyard(['build', '--progress', 'quiet', '--cache-dir', join(work, 'base-cache'), '--build-context', `busybox-bin=${busyboxDir}`, '-t', 'busybox:latest', '-o', `type=docker,dest=${busyboxTar}`, '-o', `type=oci,dest=${busyboxLayout},tar=false`, join(repo, 'examples', 'busybox')]);

  const template = baseCacheTemplate(dockyard, work, busyboxLayout);

  let n = 0;
  const rss: number[] = [];
  const timeFile = join(work, 'time.txt');
  /** Dockyard as `path` builds it, each round from a fresh copy of the template cache. */
  const dockyardTool = (name: string, path: string): Tool => {
    let cache = '';
    return {
      name,
      reset: () => {
        if (cache) rmSync(cache, { recursive: true, force: true });
        cache = join(work, `cache-${n++}`);
        spawnSync('cp', ['-a', template, cache]);
      },
      build: () => {
        dockyard(['build', '--progress', 'quiet', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busyboxLayout}`, '-t', 'project:latest', '-o', `type=oci,dest=${join(work, 'out')},tar=false`, project], timeFile, path);
        if (path === cli) rss.push(peakRss(timeFile));
      },
    };
  };

  const tools: Tool[] = [dockyardTool('dockyard', cli)];
  // BENCH_CLI_BEFORE: an older build's CLI, measured in the same rounds, for a before-and-after figure.
  if (process.env.BENCH_CLI_BEFORE) tools.push(dockyardTool('before', process.env.BENCH_CLI_BEFORE));
  let dockerd: Dockerd | undefined;
  try {
    if (PEERS) {
      dockerd = new Dockerd(join(work, 'dockerd'));
      await dockerd.start();
      const d = dockerd;
      d.docker(['load', '-i', busyboxTar]);
      const buildah = new Buildah(join(work, 'buildah'));
      buildah.load(busyboxTar);
      tools.push(
        { name: 'buildkit', reset: () => d.reset('project:latest'), build: () => d.build(project, 'project:latest') },
        { name: 'buildah', reset: () => buildah.reset('busybox'), build: () => buildah.build(project, 'project:latest') },
      );
    }
    console.log(`project: 3 stages, 40 x 1 MB deps, 3,000-file 18 MB source tree; medians of ${RUNS} runs`);
    const r = measure(tools, edit);
    console.log(`  dockyard peak RSS: max ${Math.max(...rss).toFixed(0)} MB over ${rss.length} builds (/usr/bin/time -v)`);
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    for (const peer of tools.slice(1).map((t) => t.name)) {
      console.log(`  dockyard/${peer} time ratio: cold ${ratio(r.dockyard!.cold, r[peer]!.cold)}, no-op ${ratio(r.dockyard!.noop, r[peer]!.noop)}, one edit ${ratio(r.dockyard!.incr, r[peer]!.incr)} (below 1 = dockyard faster)`);
    }
  } finally {
    dockerd?.stop();
    if (process.env.BENCH_KEEP) console.log(`  work directory kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (PEERS) {
  for (const tool of ['dockerd', '/usr/bin/docker', 'buildah']) {
    if (!have(tool)) throw new Error(`${tool} is missing: run sudo bash bench/setup-peers.sh`);
  }
}
await main();
