import { readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BuildContext } from '../coordinator/context/build-context.js';
import { parseBuildArgs } from '../coordinator/plan/build-args.js';
import { planBuild } from '../coordinator/plan/planner.js';
import { hostPlatform, parsePlatformList } from '../oci/platform.js';
import { parseReference } from '../oci/reference.js';
import { UsageError } from './errors.js';
import { planToJson, planToText } from './plan-render.js';
import { parseSecretFlag } from './secrets.js';

export const buildHelp = `Usage: dockyard build [OPTIONS] PATH

Build an image from a Dockerfile and a context directory (flags as in docker buildx build).

Options:
  -f, --file string          Name of the Dockerfile (default: PATH/Dockerfile; "-" reads stdin)
  -t, --tag name:tag         Name and optionally a tag (repeatable)
      --build-arg KEY=VALUE  Set a build-time variable (repeatable)
      --target string        Set the target build stage to build
      --platform list        Target platforms, e.g. linux/amd64,linux/arm64 (repeatable)
      --secret id=ID,src=FILE|env=VAR
                             Secret to expose to RUN --mount=type=secret (repeatable)
      --label KEY=VALUE      Set metadata on the image (repeatable)
      --dry-run              Print the build plan (stages, steps, cache keys, image config) without building
      --format text|json     Output format of --dry-run (default: text)
      --progress string      auto, tty, plain or quiet (default: auto)
  -h, --help                 Show this help
`;

const options = {
  file: { type: 'string', short: 'f' },
  tag: { type: 'string', short: 't', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  target: { type: 'string' },
  platform: { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  format: { type: 'string' },
  progress: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function keyValues(items: string[] | undefined, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid ${flag} ${JSON.stringify(item)}: expected KEY=VALUE`);
    out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

/** `dockyard build`. Returns the process exit code. */
export async function buildCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/, '')}. See 'dockyard build --help'`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(buildHelp);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`"dockyard build" requires exactly 1 argument (the context PATH), got ${positionals.length}. See 'dockyard build --help'`);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid --format ${JSON.stringify(format)}: use text or json`);
  const progress = values.progress ?? 'auto';
  if (!['auto', 'tty', 'plain', 'quiet'].includes(progress)) throw new UsageError(`invalid --progress ${JSON.stringify(progress)}: use auto, tty, plain or quiet`);

  const contextDir = resolve(positionals[0]!);
  const fileFlag = values.file;
  const dockerfilePath = fileFlag === '-' ? undefined : resolve(fileFlag ?? join(contextDir, 'Dockerfile'));
  let dockerfileText: string;
  if (dockerfilePath === undefined) dockerfileText = readStdin();
  else {
    try {
      if (!statSync(dockerfilePath).isFile()) throw new Error();
      dockerfileText = readFileSync(dockerfilePath, 'utf8');
    } catch {
      throw new UsageError(`Dockerfile ${dockerfilePath} not found: pass its path with -f`);
    }
  }
  const dockerfileName = dockerfilePath === undefined ? '<stdin>' : relative(process.cwd(), dockerfilePath) || dockerfilePath;

  for (const tag of values.tag ?? []) {
    try {
      parseReference(tag);
    } catch (err) {
      throw new UsageError(`invalid tag ${JSON.stringify(tag)}: ${(err as Error).message}`);
    }
  }
  let platforms;
  let buildArgs;
  let secretIds;
  try {
    platforms = (values.platform ?? []).flatMap((p) => parsePlatformList(p));
    buildArgs = parseBuildArgs(values['build-arg'] ?? []);
    secretIds = new Set((values.secret ?? []).map((s) => parseSecretFlag(s).id));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const plan = await planBuild({
    dockerfileName,
    dockerfileText,
    context: () => BuildContext.open(contextDir, dockerfilePath),
    buildArgs,
    target: values.target,
    platforms,
    buildPlatform: hostPlatform(),
    labels: keyValues(values.label, '--label'),
    secretIds,
  });

  if (!values['dry-run']) {
    throw new UsageError('building images needs the build engine, which this version does not have yet; use --dry-run to print the plan');
  }
  out.write(format === 'json' ? JSON.stringify(planToJson(plan), null, 2) + '\n' : planToText(plan));
  for (const w of plan.warnings) if (format === 'json') process.stderr.write(`WARNING: ${w.line !== undefined ? `${dockerfileName}:${w.line}: ` : ''}${w.message}\n`);
  return 0;
}
