/**
 * Planning speed: a 300-line, 20-stage Dockerfile over a 10,000-file context.
 * `cold` opens a fresh context each run (walk, stat, hash every selected file, then plan);
 * `parse+plan` reuses a context whose file hashes are already known.
 * Prints medians; run with `npm run bench`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildContext } from '../coordinator/context/build-context.js';
import { planBuild } from '../coordinator/plan/planner.js';
import { parsePlatform } from '../oci/platform.js';

const FILES = 10_000;
const STAGES = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 11);

function makeContext(): { dir: string; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-'));
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, `pkg${i % 100}`, `mod${Math.floor(i / 100) % 10}`);
    if (i < 1000) mkdirSync(sub, { recursive: true });
    const content = `// file ${i}\n` + 'x'.repeat(900 + (i % 200)) + '\n';
    writeFileSync(join(sub, `f${i}.go`), content);
    bytes += content.length;
  }
  writeFileSync(join(dir, 'go.mod'), 'module bench\n');
  writeFileSync(join(dir, '.dockerignore'), '**/*.tmp\n');
  return { dir, bytes };
}

/** 20 stages of 15 lines: ARGs, ENV, WORKDIR, COPY from the context and from earlier stages, RUN with mounts. */
function makeDockerfile(): string {
  const lines = ['# syntax=docker/dockerfile:1', 'ARG GO_VERSION=1.22', 'ARG BASE=alpine:3.19'];
  for (let s = 0; s < STAGES; s++) {
    const from = s === 0 ? 'golang:${GO_VERSION}' : s % 5 === 0 ? '${BASE}' : `s${s - 1}`;
    lines.push(
      `FROM ${from} AS s${s}`,
      `ARG STAGE_${s}=value-${s}`,
      `ENV STAGE=${s} PATH=/opt/s${s}/bin:$PATH`,
      `WORKDIR /work/s${s}`,
      `LABEL stage.${s}="stage $STAGE_${s}"`,
      `COPY go.mod ./`,
      `COPY pkg${s}/ ./pkg${s}/`,
      `COPY pkg${(s * 7) % 100}/mod${s % 10}/*.go ./extra/`,
      `RUN --mount=type=cache,target=/root/.cache go build ./pkg${s}/...`,
      s > 0 ? `COPY --from=s${Math.max(0, s - 2)} /work /prev` : 'COPY . /src',
      `RUN echo "$STAGE_${s}" > /stage && \\`,
      `    ls /work`,
      `USER 1000`,
      `EXPOSE ${8000 + s}`,
      s === STAGES - 1 ? 'COPY . /final-src' : `CMD ["/bin/s${s}"]`,
    );
  }
  while (lines.length < 300) lines.push('# padding comment');
  return lines.join('\n') + '\n';
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const { dir, bytes } = makeContext();
  const dockerfileText = makeDockerfile();
  const opts = (context: () => BuildContext) => ({
    dockerfileName: 'Dockerfile',
    dockerfileText,
    context,
    buildArgs: new Map<string, string>(),
    platforms: [],
    buildPlatform: parsePlatform('linux/amd64'),
    labels: new Map<string, string>(),
    secretIds: new Set<string>(),
  });
  try {
    const cold: number[] = [];
    let steps = 0;
    for (let i = 0; i < RUNS; i++) {
      cold.push(await timeIt(async () => (steps = (await planBuild(opts(() => BuildContext.open(dir)))).steps.length)));
    }
    const warmContext = BuildContext.open(dir);
    await planBuild(opts(() => warmContext));
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(await timeIt(() => planBuild(opts(() => warmContext))));

    const lines = dockerfileText.split('\n').length - 1;
    console.log(`plan: ${lines}-line Dockerfile, ${STAGES} stages, ${steps} steps; context ${FILES} files (${(bytes / 1e6).toFixed(1)} MB); ${RUNS} runs each`);
    console.log(`  cold (walk + hash + plan)  median ${median(cold).toFixed(0)} ms  (min ${Math.min(...cold).toFixed(0)}, max ${Math.max(...cold).toFixed(0)})`);
    console.log(`  parse + plan, hashes known median ${median(warm).toFixed(1)} ms  (min ${Math.min(...warm).toFixed(1)}, max ${Math.max(...warm).toFixed(1)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
