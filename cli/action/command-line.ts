import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionInputs } from './inputs.js';

/** An input the step cannot honour, or a value it cannot take: the step fails naming the input. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`input ${input}: ${message}`);
  }
}

/** build-push-action's inputs that Dockyard cannot honour yet, and why. Set, they fail the step. */
const unsupported: Partial<Record<keyof ActionInputs, string>> = {
  'add-hosts': 'Dockyard has no --add-host yet',
  allow: 'Dockyard grants no extra entitlements (network.host, security.insecure) yet',
  annotations: 'Dockyard cannot add OCI annotations yet',
  attests: 'use the provenance and sbom inputs',
  call: 'Dockyard has no --call (check, outline) yet',
  'cgroup-parent': 'Dockyard runs steps in its own cgroups',
  network: 'Dockyard has no --network yet (RUN --network in the Dockerfile works)',
  'shm-size': 'Dockyard has no --shm-size yet',
  ssh: 'Dockyard has no SSH agent forwarding yet',
  ulimit: 'Dockyard has no --ulimit yet',
};

/** What the Action runs: `dockyard build` arguments and extra environment (secrets go through it, never argv). */
export interface BuildCommand {
  args: string[];
  env: Record<string, string>;
  /** The Dockerfile as passed with --file: the CLI names it so in errors. */
  dockerfile: string;
  /** Each CLI flag a set input became, to name the input when the CLI rejects the flag. */
  flagInputs: Map<string, string>;
}

/** Where the command line puts files: the metadata and image ID it reads back, secrets it writes. */
export interface CommandFiles {
  /** A private directory (0700) for secret values given inline. */
  dir: string;
  metadataFile: string;
  iidfile: string;
}

function keyValue(input: string, item: string): [string, string] {
  // As docker/actions-toolkit's parseSecretKvp: the key up to the first `=`, both sides non-empty.
  const eq = item.indexOf('=');
  const key = eq < 0 ? '' : item.slice(0, eq);
  const value = eq < 0 ? '' : item.slice(eq + 1);
  if (key === '' || value === '') throw new InputError(input, `${JSON.stringify(eq < 0 ? item : `${key}=…`)} is not a valid secret: expected KEY=VALUE`);
  return [key, value];
}

/** A Git URL context (build-push-action's default) or a template: Dockyard builds local directories only. */
function isGitContext(context: string): boolean {
  return /^(?:https?:\/\/|git:\/\/|git@|github\.com\/)/.test(context) || context.includes('{{');
}

/** This workflow run, as docker/actions-toolkit names it for provenance's builder id; undefined outside a run. */
function workflowRunUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run, GITHUB_RUN_ATTEMPT: attempt } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}/attempts/${attempt || '1'}` : undefined;
}

/**
 * The `--provenance` value for the input, as build-push-action resolves it: `true` is the workflow run
 * as builder id, attributes get that builder id unless they name one, `false` or nothing asks for none.
 */
export function provenanceValue(input: string, runUrl: string | undefined): string | undefined {
  if (input === '' || /^false$/i.test(input)) return undefined;
  const builderId = runUrl !== undefined ? `builder-id=${runUrl}` : undefined;
  if (/^true$/i.test(input)) return builderId ?? 'true';
  const named = input.split(',').some((field) => field.split('=')[0]!.trim() === 'builder-id');
  return named || builderId === undefined ? input : `${input},${builderId}`;
}

/**
 * Maps the inputs to `dockyard build` flags, input by input as build-push-action maps them to buildx.
 * `onSecret` gets every value that must be masked in the log.
 */
export function buildCommand(inputs: ActionInputs, files: CommandFiles, onSecret: (value: string) => void, env: NodeJS.ProcessEnv = process.env): BuildCommand {
  for (const [name, why] of Object.entries(unsupported)) {
    const value = inputs[name as keyof ActionInputs];
    if (Array.isArray(value) ? value.length > 0 : value !== '') throw new InputError(name, `not supported: ${why}`);
  }
  if (inputs.load) throw new InputError('load', 'Dockyard has no Docker daemon to load into: use outputs: type=docker,dest=FILE, then docker load -i FILE');
  const context = inputs.context || '.';
  if (isGitContext(context)) throw new InputError('context', `${JSON.stringify(context)}: Dockyard builds a local directory; check the repository out (actions/checkout) and give its path`);

  const args: string[] = ['build', '--progress', 'rawjson'];
  const childEnv: Record<string, string> = {};
  const flagInputs = new Map<string, string>();
  const add = (input: string, flag: string, ...values: string[]): void => {
    args.push(flag, ...values);
    flagInputs.set(flag.replace(/=.*$/s, ''), input);
  };
  // Always named, relative to the workspace as given: errors then point at the file to annotate.
  const dockerfile = inputs.file || join(context, 'Dockerfile');
  add('file', '--file', dockerfile);
  for (const v of inputs['build-args']) add('build-args', '--build-arg', v);
  for (const v of inputs['build-contexts']) add('build-contexts', '--build-context', v);
  for (const v of inputs['cache-from']) add('cache-from', '--cache-from', v);
  for (const v of inputs['cache-to']) add('cache-to', '--cache-to', v);
  for (const v of inputs.labels) add('labels', '--label', v);
  for (const v of inputs['no-cache-filters']) add('no-cache-filters', '--no-cache-filter', v);
  for (const v of inputs.outputs) add('outputs', '--output', v);
  if (inputs.platforms.length > 0) add('platforms', '--platform', inputs.platforms.join(','));
  for (const v of inputs.tags) add('tags', '--tag', v);
  if (inputs.target) add('target', '--target', inputs.target);
  if (inputs['no-cache']) add('no-cache', '--no-cache');
  if (inputs.pull) add('pull', '--pull');
  if (inputs.push) add('push', '--push');

  inputs.secrets.forEach((item, i) => {
    const [id, value] = keyValue('secrets', item);
    onSecret(value);
    const file = join(files.dir, `secret-${i}`);
    writeFileSync(file, value, { mode: 0o600 });
    add('secrets', '--secret', `id=${id},src=${file}`);
  });
  for (const item of inputs['secret-envs']) {
    const [id, name] = keyValue('secret-envs', item);
    add('secret-envs', '--secret', `id=${id},env=${name}`);
  }
  for (const item of inputs['secret-files']) {
    const [id, path] = keyValue('secret-files', item);
    if (!existsSync(path)) throw new InputError('secret-files', `secret file ${path} not found`);
    add('secret-files', '--secret', `id=${id},src=${path}`);
  }

  // build-push-action's values: true, false, or attributes (mode=max). false asks for nothing, which Dockyard does by default.
  const provenance = provenanceValue(inputs.provenance, workflowRunUrl(env));
  if (provenance !== undefined) add('provenance', `--provenance=${provenance}`);
  if (inputs.sbom !== '' && !/^false$/i.test(inputs.sbom)) add('sbom', `--sbom=${inputs.sbom}`);

  if (inputs.builder) add('builder', '--builder', inputs.builder);
  if (inputs['builder-token']) {
    if (!inputs.builder) throw new InputError('builder-token', 'needs builder: the farm it authenticates to');
    onSecret(inputs['builder-token']);
    childEnv.DOCKYARD_TOKEN = inputs['builder-token'];
  }

  if (inputs.sign && inputs.builder) {
    // A farm signs with the key its coordinators hold (--sign-key); none is sent to it.
    for (const name of ['cosign-key', 'cosign-password'] as const) if (inputs[name]) throw new InputError(name, 'is not sent to a farm: with builder, its coordinators sign with their own key (dockyard coordinator --sign-key)');
    add('sign', '--sign');
  } else if (inputs.sign) {
    if (!inputs['cosign-key']) throw new InputError('sign', 'needs cosign-key: Dockyard signs with a key (keyless signing is not supported yet)');
    let key = inputs['cosign-key'];
    // The key itself (a repository secret) or a path to it.
    if (key.includes('-----BEGIN')) {
      onSecret(key);
      const file = join(files.dir, 'cosign.key');
      writeFileSync(file, key.endsWith('\n') ? key : key + '\n', { mode: 0o600 });
      key = file;
    } else if (!existsSync(key)) throw new InputError('cosign-key', `key file ${key} not found (give the PEM key itself or a path)`);
    add('sign', '--sign');
    add('cosign-key', '--key', key);
    if (inputs['cosign-password']) {
      onSecret(inputs['cosign-password']);
      childEnv.COSIGN_PASSWORD = inputs['cosign-password'];
    }
  } else {
    for (const name of ['cosign-key', 'cosign-password'] as const) if (inputs[name]) throw new InputError(name, 'is set but sign is not true');
  }

  if (inputs['cache-dir']) add('cache-dir', '--cache-dir', inputs['cache-dir']);
  args.push('--iidfile', files.iidfile, '--metadata-file', files.metadataFile, context);
  return { args, env: childEnv, dockerfile, flagInputs };
}

/** The CLI's error, naming the input a flag it does not know came from (a Dockyard without that feature). */
export function withInput(error: string, flagInputs: Map<string, string>): string {
  const flag = /Unknown option '(--[^'=]+)/.exec(error)?.[1];
  const input = flag !== undefined ? flagInputs.get(flag) : undefined;
  return input !== undefined ? `${error} (from input ${input})` : error;
}
