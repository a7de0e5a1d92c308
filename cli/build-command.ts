import { defaultCacheDir } from '../cache/cache-dir.js';
import { contextOpener } from '../coordinator/solver/contexts.js';
import { ContextHashStore } from '../coordinator/context/file-hashes.js';
import { prefetchContext } from '../coordinator/plan/context-prefetch.js';
import { Progress, type ProgressMode } from '../coordinator/progress/progress.js';
import type { PlanOptions, PlanWarning } from '../coordinator/plan/plan-types.js';
import { hostPlatform } from '../oci/platform.js';
import { buildHelp, parseBuildFlags, type BuildFlags } from './build-flags.js';
import { UsageError } from './errors.js';
import { escapeControls } from './escape-controls.js';
import { planToJson, planToText } from './plan-render.js';
import { FlagSecrets } from './secrets.js';
import { attestRequest } from './attest-request.js';
import { trace } from '../oci/trace.js';

export { buildHelp };

function printWarnings(warnings: PlanWarning[], dockerfileName: string): void {
  for (const w of warnings) process.stderr.write(escapeControls(`WARNING: ${w.line !== undefined ? `${dockerfileName}:${w.line}: ` : ''}${w.message}`) + '\n');
}

/** `dockyard build`. Returns the process exit code. */
export async function buildCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  trace('cli: build command');
  const flags = parseBuildFlags(argv);
  if (flags === 'help') {
    out.write(buildHelp);
    return 0;
  }
  // A build remembers its contexts' file hashes in its cache directory, a farm client's too (dry runs keep nothing).
  const hashes = flags.dryRun ? undefined : new ContextHashStore(flags.cacheDir ?? defaultCacheDir());
  const planOptions: PlanOptions = {
    dockerfileName: flags.dockerfileName,
    dockerfileText: flags.dockerfileText,
    context: contextOpener(flags.contextDir, flags.dockerfilePath, flags.namedContexts, hashes),
    buildArgs: flags.buildArgs,
    target: flags.target,
    platforms: flags.platforms,
    buildPlatform: hostPlatform(),
    labels: flags.labels,
    secretIds: new Set(flags.secrets.map((s) => s.id)),
    namedContexts: flags.namedContexts,
  };
  // The context is walked (by find, on the other core) while the engine's modules load and the build is
  // set up; a farm client uploads all of it, whatever the Dockerfile copies.
  if (flags.builder === undefined) prefetchContext(planOptions.context, flags.dockerfileText);
  else planOptions.context('context').load().catch(() => undefined); // the upload reports a failure
  if (flags.dryRun) {
    const { dryRunPlan } = await import('../coordinator/solver/dry-run.js');
    const plan = await dryRunPlan(planOptions, { offline: flags.offline });
    out.write(flags.format === 'json' ? JSON.stringify(planToJson(plan), null, 2) + '\n' : planToText(plan));
    if (flags.format === 'json') printWarnings(plan.warnings, flags.dockerfileName);
    return 0;
  }
  try {
    return await runBuild(flags, planOptions, out);
  } finally {
    hashes?.saveAll();
  }
}

async function runBuild(flags: BuildFlags, planOptions: PlanOptions, out: NodeJS.WritableStream): Promise<number> {
  if (flags.builder === undefined && process.getuid?.() !== 0) {
    throw new UsageError('building needs root: it mounts overlay filesystems and runs steps with runc. Run it with sudo (--dry-run does not need root)');
  }
  const mode: ProgressMode = flags.progress === 'auto' ? (process.stderr.isTTY ? 'tty' : 'plain') : flags.progress;
  const reporter = new Progress(mode);
  if (flags.outputs.length === 0) process.stderr.write('WARNING: No output specified; the build result will only remain in the build cache. Use --output type=oci,dest=FILE (or type=docker, type=local).\n');
  // The key is opened (and its password asked) before building, so a wrong password costs no build.
  // On a farm, the coordinator signs with its own key.
  const signer = flags.sign?.key !== undefined ? await (await import('./signing-commands.js')).loadSigner(flags.sign.key) : undefined;
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (flags.builder !== undefined) {
      const { result } = await (await import('./remote-build.js')).remoteBuild(flags, reporter, abort.signal, planOptions.context);
      reporter.finish();
      printWarnings(result.warnings.map((w) => ({ message: w.message, ...(w.line !== undefined ? { line: w.line } : {}) })), flags.dockerfileName);
      out.write(result.top!.digest + '\n');
      return 0;
    }
    const { build } = await import('../coordinator/solver/local-build.js');
    const result = await build({
      plan: planOptions,
      cacheDir: flags.cacheDir ?? defaultCacheDir(),
      outputs: flags.outputs,
      tags: flags.tags,
      progress: reporter,
      noCache: flags.noCache,
      noCacheFilter: flags.noCacheFilter,
      cacheFrom: flags.cacheFrom,
      cacheTo: flags.cacheTo,
      secrets: new FlagSecrets(flags.secrets),
      ...(flags.iidfile ? { iidfile: flags.iidfile } : {}),
      ...(flags.metadataFile ? { metadataFile: flags.metadataFile } : {}),
      ...(flags.maxParallelism !== undefined ? { maxParallelism: flags.maxParallelism } : {}),
      signal: abort.signal,
      ...(flags.attest.provenance || flags.attest.sbom ? { attest: { ...attestRequest(flags), ...(signer ? { signer } : {}) } } : {}),
      ...(flags.sign && signer ? { sign: { formats: flags.sign.formats, signer } } : {}),
    });
    trace('cli: build returned');
    reporter.finish();
    printWarnings([...result.plan.warnings, ...result.warnings.map((message) => ({ message }))], flags.dockerfileName);
    out.write(result.top.digest + '\n');
    return 0;
  } catch (err) {
    reporter.finish();
    if (abort.signal.aborted) throw new UsageError('build cancelled');
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
