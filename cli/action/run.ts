import * as core from '@actions/core';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { annotationPath, parseLineMessage } from './annotations.js';
import { buildCommand, InputError, withInput, type BuildCommand } from './command-line.js';
import { readInputs, type ActionInputs } from './inputs.js';
import { missingToolsMessage } from './runner-tools.js';
import { parseRecord, StepLog } from './step-log.js';
import { summaryMarkdown } from './summary.js';

/**
 * How the build process is started: this same file in CLI mode. A local build mounts overlays and runs
 * runc, so it needs root: on a runner that is not root (GitHub's hosted runners), through sudo.
 */
export function launcher(entry: string, args: string[], o: { uid: number | undefined; farm: boolean }): string[] {
  const own = [process.execPath, entry, ...args];
  return o.farm || o.uid === undefined || o.uid === 0 ? own : ['sudo', '--preserve-env', ...own];
}

interface Outcome {
  code: number;
  /** The CLI's last `error:` line, if it failed. */
  error?: string;
}

/** Runs the CLI, folding its progress into the log; notes warnings and the error as annotations. */
async function runCli(argv: string[], env: NodeJS.ProcessEnv, log: StepLog, command: BuildCommand): Promise<Outcome> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  let error: string | undefined;
  const stderr = createInterface({ input: child.stderr! });
  stderr.on('line', (line) => {
    const record = parseRecord(line);
    if (record) return log.apply(record);
    log.text(line);
    if (line.startsWith('error: ')) error = line.slice('error: '.length);
    const at = parseLineMessage(line, command.dockerfile);
    if (at?.level === 'warning') core.warning(at.message, { file: annotationPath(command.dockerfile, process.env.GITHUB_WORKSPACE), startLine: at.line });
  });
  // stdout holds the digest line; the outputs come from the metadata file.
  child.stdout!.resume();
  let spawnError: string | undefined;
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err) => {
      // Only sudo can be missing: the other command is this very node.
      spawnError = `cannot start ${argv[0]}: ${err.message}${argv[0] === 'sudo' ? ' (a local build needs root: run the job as root, install sudo, or build on a farm with builder)' : ''}`;
      resolve(127);
    });
    child.once('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  log.close();
  if (spawnError !== undefined) return { code, error: spawnError };
  return { code, ...(error !== undefined ? { error: withInput(error, command.flagInputs) } : {}) };
}

function pushedRefs(inputs: ActionInputs): string[] {
  const pushOutput = inputs.outputs.some((o) => /(^|,)type=registry(,|$)/.test(o) || (/(^|,)type=image(,|$)/.test(o) && /(^|,)push=true(,|$)/.test(o)));
  return inputs.push || pushOutput ? inputs.tags : [];
}

/** The Action: inputs to a `dockyard build`, its outputs, annotations and job summary. */
export async function runAction(entry: string): Promise<void> {
  const work = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'dockyard-action-'));
  const files = { dir: work, metadataFile: join(work, 'metadata.json'), iidfile: join(work, 'iidfile') };
  try {
    let inputs: ActionInputs;
    let command;
    try {
      inputs = readInputs();
      if (inputs['github-token']) core.setSecret(inputs['github-token']);
      command = buildCommand(inputs, files, (v) => core.setSecret(v));
    } catch (err) {
      core.setFailed(err instanceof InputError ? err.message : (err as Error).message);
      return;
    }
    const missing = inputs.builder === '' ? missingToolsMessage(process.env.PATH ?? '') : undefined;
    if (missing !== undefined) {
      core.setFailed(missing);
      return;
    }
    const log = new StepLog({ line: (t) => process.stdout.write(t + '\n'), startGroup: core.startGroup, endGroup: core.endGroup });
    const argv = launcher(entry, command.args, { uid: process.getuid?.(), farm: inputs.builder !== '' });
    const outcome = await runCli(argv, { ...process.env, ...command.env }, log, command);

    const ok = outcome.code === 0 && existsSync(files.metadataFile);
    const metadataText = ok ? readFileSync(files.metadataFile, 'utf8') : undefined;
    const digest = metadataText !== undefined ? ((JSON.parse(metadataText) as Record<string, unknown>)['containerimage.digest'] as string | undefined) : undefined;
    const imageid = ok && existsSync(files.iidfile) ? readFileSync(files.iidfile, 'utf8').trim() : undefined;
    if (ok) {
      if (imageid) core.setOutput('imageid', imageid);
      if (digest) core.setOutput('digest', digest);
      core.setOutput('metadata', metadataText!.trim());
    }
    const failure = ok ? undefined : (outcome.error ?? `dockyard build exited with code ${outcome.code}`);
    if (failure !== undefined) {
      const at = parseLineMessage(`error: ${failure}`, command.dockerfile);
      if (at) core.error(at.message, { title: 'Dockerfile error', file: annotationPath(command.dockerfile, process.env.GITHUB_WORKSPACE), startLine: at.line });
      else core.error(failure);
      process.exitCode = 1;
    }
    if (inputs.summary) {
      const markdown = summaryMarkdown({
        steps: log.steps(),
        ...(digest ? { digest } : {}),
        ...(imageid ? { imageid } : {}),
        pushed: ok ? pushedRefs(inputs) : [],
        ...(inputs.builder ? { builder: inputs.builder } : {}),
        ...(failure !== undefined ? { error: failure } : {}),
      });
      // A summary that cannot be written must not hide the build's own outcome.
      if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write().catch((err: Error) => core.warning(`job summary not written: ${err.message}`));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
