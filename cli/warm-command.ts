import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { defaultCacheDir } from '../cache/cache-dir.js';
import { contextOpener } from '../coordinator/solver/contexts.js';
import { build } from '../coordinator/solver/local-build.js';
import type { ProgressMode } from '../coordinator/progress/progress.js';
import { StepTally, TallyingProgress, type Coverage } from '../coordinator/warm/step-tally.js';
import { entryTargets, openWarmContext, type OpenedContext } from '../coordinator/warm/warm-context.js';
import { parseWarmFile, type WarmEntry } from '../coordinator/warm/warm-file.js';
import { hostPlatform, parsePlatform } from '../oci/platform.js';
import type { BuildFlags } from './build-flags.js';
import { formatError, parseCommandArgs, UsageError } from './errors.js';
import { checkBuilder, farmClientHelp, farmClientOptions, tlsFiles } from './farm-client-flags.js';
import { FlagSecrets } from './secrets.js';

export const warmHelp = `Usage: dockyard warm --config FILE [OPTIONS]

Warm the build cache: build every entry of a warm-up file once, cache-only (no export, no push), here
or on a build farm, and print each entry's cache coverage. The same file, given to
'dockyard coordinator --warm FILE', runs the entries on their schedules.

Options:
      --config FILE          The warm-up file (YAML: entries with name, context, dockerfile, targets,
                             platforms, args, schedule)
      --cache-dir DIR        Cache location of a local run (default: $DOCKYARD_CACHE_DIR or ~/.cache/dockyard)
      --progress string      auto, tty, plain, quiet or rawjson (default: quiet)
${farmClientHelp}  -h, --help                 Show this help
`;

const options = {
  config: { type: 'string' },
  'cache-dir': { type: 'string' },
  progress: { type: 'string' },
  ...farmClientOptions,
  help: { type: 'boolean', short: 'h' },
} as const;

/** The line a warm run prints for an entry. */
export function coverageLine(name: string, c: Coverage): string {
  return `${name}: ${c.warm}/${c.total} steps were warm, ${c.built} built`;
}

/** `dockyard warm`. Exit code 1 when an entry failed (the others still run). */
export async function warmCommand(argv: string[], out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseCommandArgs('warm', { args: argv, options, strict: true, allowPositionals: false });
  if (values.help) return out.write(warmHelp), 0;
  if (!values.config) throw new UsageError(`--config FILE is required. See 'dockyard warm --help'`);
  const progress = values.progress ?? 'quiet';
  if (!['auto', 'tty', 'plain', 'quiet', 'rawjson'].includes(progress)) throw new UsageError(`invalid --progress ${JSON.stringify(progress)}: use auto, tty, plain, quiet or rawjson`);
  const mode = (progress === 'auto' ? (process.stderr.isTTY ? 'tty' : 'plain') : progress) as ProgressMode;
  const builder = values.builder ?? (env.DOCKYARD_BUILDER || undefined);
  if (builder !== undefined) checkBuilder(builder);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (builder === undefined && process.getuid?.() !== 0) throw new UsageError('warming locally needs root, as building does; or warm a farm with --builder');
  const entries = parseWarmFile(values.config);
  const cacheDir = values['cache-dir'] ? resolve(values['cache-dir']) : defaultCacheDir(env);

  const scratch = await mkdtemp(join(tmpdir(), 'dockyard-warm-'));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failed = 0;
  try {
    for (const entry of entries) {
      if (abort.signal.aborted) throw new UsageError('warm run cancelled');
      const tally = new StepTally();
      let ctx: OpenedContext | undefined;
      try {
        ctx = await openWarmContext(entry, join(scratch, entry.name));
        for (const target of entryTargets(entry)) {
          const reporter = new TallyingProgress(tally, mode);
          try {
            if (builder !== undefined) await remote(entry, ctx, target, reporter, { builder, values }, abort.signal);
            else await local(entry, ctx, target, reporter, cacheDir, abort.signal);
          } finally {
            reporter.finish();
          }
        }
        out.write(coverageLine(entry.name, tally.coverage()) + '\n');
      } catch (err) {
        if (abort.signal.aborted) throw new UsageError('warm run cancelled');
        failed++;
        process.stderr.write(`${entry.name}: ${formatError(err, ctx ? relative(process.cwd(), ctx.dockerfilePath) : entry.dockerfile)}\n`);
      } finally {
        await ctx?.close();
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(scratch, { recursive: true, force: true });
  }
  return failed > 0 ? 1 : 0;
}

function local(entry: WarmEntry, ctx: OpenedContext, target: string | undefined, progress: TallyingProgress, cacheDir: string, signal: AbortSignal): Promise<unknown> {
  return build({
    plan: {
      dockerfileName: entry.dockerfile,
      dockerfileText: ctx.dockerfileText,
      context: contextOpener(ctx.dir, ctx.dockerfilePath, new Map()),
      buildArgs: new Map(Object.entries(entry.args)),
      ...(target !== undefined ? { target } : {}),
      platforms: entry.platforms.map(parsePlatform),
      buildPlatform: hostPlatform(),
      labels: new Map(),
      secretIds: new Set(),
      namedContexts: new Map(),
    },
    cacheDir,
    // Cache-only: nothing exported, nothing pushed.
    outputs: [],
    tags: [],
    progress,
    noCache: false,
    noCacheFilter: [],
    secrets: new FlagSecrets([]),
    signal,
  });
}

type FarmValues = { 'token-file'?: string | undefined; 'tls-ca'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined };

/** The same cache-only build, as `dockyard build --builder` submits it. */
async function remote(entry: WarmEntry, ctx: OpenedContext, target: string | undefined, progress: TallyingProgress, farm: { builder: string; values: FarmValues }, signal: AbortSignal): Promise<void> {
  const flags: BuildFlags = {
    contextDir: ctx.dir,
    dockerfilePath: ctx.dockerfilePath,
    dockerfileText: ctx.dockerfileText,
    dockerfileName: entry.dockerfile,
    tags: [],
    buildArgs: new Map(Object.entries(entry.args)),
    ...(target !== undefined ? { target } : {}),
    platforms: entry.platforms.map(parsePlatform),
    secrets: [],
    labels: new Map(),
    namedContexts: new Map(),
    outputs: [],
    cacheFrom: [],
    cacheTo: [],
    cacheFromText: [],
    cacheToText: [],
    attest: { sbom: false },
    noCache: false,
    noCacheFilter: [],
    dryRun: false,
    offline: false,
    format: 'text',
    progress: progress.mode,
    builder: farm.builder,
    ...(farm.values['token-file'] !== undefined ? { tokenFile: farm.values['token-file'] } : {}),
    tls: tlsFiles(farm.values),
  };
  await (await import('./remote-build.js')).remoteBuild(flags, progress, signal);
}
