import { readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseBuildContextFlag, type NamedContext } from '../coordinator/context/named-contexts.js';
import { parseOutput, type OutputSpec } from '../coordinator/export/output-spec.js';
import { parseProvenance, parseSbom, type AttestOptions } from '../coordinator/attest/attest-options.js';
import { parseBuildArgs } from '../coordinator/plan/build-args.js';
import type { CacheExport, CacheImport } from '../coordinator/remote-cache/cache-spec.js';
import { parsePlatformList, type Platform } from '../oci/platform.js';
import { parseReference } from '../oci/reference.js';
import type { TlsFiles } from '../proto/transport.js';
import { parseCommandArgs, UsageError } from './errors.js';
import { cacheFlags } from './cache-flags.js';
import { parseSecretFlag, type SecretFlag } from './secrets.js';
import { parseSignatureFormat } from './signature-format.js';
import type { SignatureFormat } from '../oci/signing/image-signatures.js';
import { checkBuilder, farmClientHelp, farmClientOptions, tlsFiles } from './farm-client-flags.js';

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
  -o, --output spec          Output destination (repeatable): type=oci,dest=FILE[,tar=false] | type=docker,dest=FILE |
                             type=local,dest=DIR | type=tar,dest=FILE | PATH (local) | - (tar to stdout)
      --provenance VALUE     Attach SLSA v1 provenance to each platform's image: true, false, or
                             mode=min|max[,builder-id=URI] (bare --provenance: mode=min)
      --sbom VALUE           Attach an SPDX 2.3 SBOM of each platform's image: true or false (bare --sbom: true).
                             Pushed images get them as OCI referrers (signed Sigstore bundles with --sign), OCI
                             layouts beside the image in index.json, type=local as provenance.json and sbom.spdx.json
      --pull                 Check the registry for newer base images (Dockyard always does)
      --push                 Push the image to the registry of each -t (same as --output type=registry)
      --build-context NAME=VALUE
                             Extra context (repeatable): a directory, oci-layout://DIR[:TAG|@DIGEST] or docker-image://REF
      --sign                 Sign every pushed manifest (each platform's and the index), as cosign does
      --key FILE             With --sign: cosign private key file (password from COSIGN_PASSWORD or the terminal)
      --signature-format legacy|bundle|both
                             With --sign: cosign's sha256-<hex>.sig tag, a Sigstore bundle referrer, or both (default)
      --iidfile FILE         Write the image ID to FILE
      --metadata-file FILE   Write build result metadata (digests) to FILE as JSON
      --no-cache             Do not use the cache
      --no-cache-filter STAGE
                             Do not use the cache for these stages (repeatable)
      --cache-from spec      Import build cache (repeatable): type=registry,ref=REF (a cache, or an image with inline cache) |
                             type=local,src=DIR | REF
      --cache-to spec        Export build cache (repeatable): type=registry,ref=REF[,mode=min|max] |
                             type=local,dest=DIR[,mode=min|max] | type=inline (records in the image config)
      --cache-dir DIR        Cache location (default: $DOCKYARD_CACHE_DIR or ~/.cache/dockyard)
      --max-parallelism N    Steps run at once (default: CPU count)
      --dry-run              Print the build plan (stages, steps, cache keys, image config) without building;
                             base images are resolved (manifest and config only) as a build resolves them
      --offline              With --dry-run: contact no registry or server; remote sources are marked unresolved
      --format text|json     Output format of --dry-run (default: text)
      --progress string      auto, tty, plain, quiet or rawjson (one JSON event per line) (default: auto)
${farmClientHelp}  -h, --help                 Show this help
`;

const options = {
  file: { type: 'string', short: 'f' },
  tag: { type: 'string', short: 't', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  target: { type: 'string' },
  platform: { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o', multiple: true },
  'build-context': { type: 'string', multiple: true },
  iidfile: { type: 'string' },
  'metadata-file': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'no-cache-filter': { type: 'string', multiple: true },
  'cache-dir': { type: 'string' },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  'max-parallelism': { type: 'string' },
  push: { type: 'boolean' },
  pull: { type: 'boolean' },
  load: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  offline: { type: 'boolean' },
  format: { type: 'string' },
  progress: { type: 'string' },
  provenance: { type: 'string' },
  sbom: { type: 'string' },
  sign: { type: 'boolean' },
  key: { type: 'string' },
  'signature-format': { type: 'string' },
  ...farmClientOptions,
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

/** Everything `dockyard build` was asked to do, checked. */
export interface BuildFlags {
  contextDir: string;
  dockerfilePath?: string;
  dockerfileText: string;
  /** How the Dockerfile is named in messages. */
  dockerfileName: string;
  tags: string[];
  buildArgs: Map<string, string>;
  target?: string;
  platforms: Platform[];
  secrets: SecretFlag[];
  labels: Map<string, string>;
  namedContexts: Map<string, NamedContext>;
  outputs: OutputSpec[];
  iidfile?: string;
  metadataFile?: string;
  noCache: boolean;
  noCacheFilter: string[];
  cacheFrom: CacheImport[];
  cacheTo: CacheExport[];
  /** The same, as written: what a farm build sends. */
  cacheFromText: string[];
  cacheToText: string[];
  cacheDir?: string;
  maxParallelism?: number;
  dryRun: boolean;
  /** `--offline` (dry runs only): plan without contacting registries or servers. */
  offline: boolean;
  format: 'text' | 'json';
  progress: 'auto' | 'tty' | 'plain' | 'quiet' | 'rawjson';
  /** `--builder` (or DOCKYARD_BUILDER): the farm's coordinators to build on, comma-separated. */
  builder?: string;
  tokenFile?: string;
  tls: TlsFiles;
  /** `--provenance`, `--sbom`. */
  attest: AttestOptions;
  /** `--sign --key KEY [--signature-format]`: sign what is pushed. */
  sign?: { key?: string; formats: SignatureFormat[] };
}

/** buildx lets `--provenance` and `--sbom` stand alone (meaning true) or take a value with `=`. */
const OPTIONAL_VALUE = new Set(['--provenance', '--sbom']);

function withOptionalValues(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => (OPTIONAL_VALUE.has(a) && (end < 0 || i < end) ? `${a}=true` : a));
}

/** Parses and checks `dockyard build` arguments; `help` when the user asked for it. */
export function parseBuildFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): BuildFlags | 'help' {
  const { values, positionals } = parseCommandArgs('build', { args: withOptionalValues(argv), options, allowPositionals: true, strict: true });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(`"dockyard build" requires exactly 1 argument (the context PATH), got ${positionals.length}. See 'dockyard build --help'`);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid --format ${JSON.stringify(format)}: use text or json`);
  // Both only shape a dry run; without one they would be ignored and a build would start instead.
  if (!values['dry-run'] && values.format !== undefined) throw new UsageError('--format needs --dry-run: it sets the format of the printed plan');
  if (!values['dry-run'] && values.offline) throw new UsageError('--offline needs --dry-run: a build must pull its base images');
  const progress = values.progress ?? 'auto';
  if (!['auto', 'tty', 'plain', 'quiet', 'rawjson'].includes(progress)) throw new UsageError(`invalid --progress ${JSON.stringify(progress)}: use auto, tty, plain, quiet or rawjson`);

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
  let secrets;
  let namedContexts;
  let outputs;
  let attest: AttestOptions;
  try {
    attest = { ...(values.provenance !== undefined && parseProvenance(values.provenance) ? { provenance: parseProvenance(values.provenance)! } : {}), sbom: values.sbom !== undefined && parseSbom(values.sbom) };
    platforms = (values.platform ?? []).flatMap((p) => parsePlatformList(p));
    buildArgs = parseBuildArgs(values['build-arg'] ?? []);
    secrets = (values.secret ?? []).map((s) => parseSecretFlag(s));
    namedContexts = new Map((values['build-context'] ?? []).map((c) => parseBuildContextFlag(c)).map((c) => [c.name, c] as const));
    outputs = (values.output ?? []).map(parseOutput);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.push) outputs.push({ type: 'image', push: true, names: values.tag ?? [], pushByDigest: false });
  if (attest.provenance || attest.sbom) {
    const flag = [attest.provenance ? '--provenance' : '', attest.sbom ? '--sbom' : ''].filter(Boolean).join('/');
    if (outputs.some((o) => o.type === 'tar')) throw new UsageError(`${flag}: --output type=tar has no place for attestations; use type=local (provenance.json, sbom.spdx.json beside the files) or type=oci`);
  }
  if (values.load) throw new UsageError('--load needs a Docker daemon; use --output type=docker,dest=FILE and docker load < FILE');
  const maxParallelism = values['max-parallelism'] === undefined ? undefined : Number(values['max-parallelism']);
  if (maxParallelism !== undefined && !(Number.isInteger(maxParallelism) && maxParallelism > 0)) throw new UsageError(`invalid --max-parallelism ${values['max-parallelism']}: expected a positive whole number`);

  const builder = values.builder ?? (env.DOCKYARD_BUILDER || undefined);
  if (builder !== undefined) checkBuilder(builder);
  const sign = signFlags(values, outputs, builder);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return {
    contextDir,
    ...(dockerfilePath !== undefined ? { dockerfilePath } : {}),
    dockerfileText,
    dockerfileName,
    tags: values.tag ?? [],
    buildArgs,
    ...(values.target !== undefined ? { target: values.target } : {}),
    platforms,
    secrets,
    labels: keyValues(values.label, '--label'),
    namedContexts,
    outputs,
    ...(values.iidfile ? { iidfile: values.iidfile } : {}),
    ...(values['metadata-file'] ? { metadataFile: values['metadata-file'] } : {}),
    noCache: values['no-cache'] === true,
    noCacheFilter: values['no-cache-filter'] ?? [],
    ...cacheFlags(values, builder),
    ...(values['cache-dir'] ? { cacheDir: resolve(values['cache-dir']) } : {}),
    ...(maxParallelism !== undefined ? { maxParallelism } : {}),
    dryRun: values['dry-run'] === true,
    offline: values.offline === true,
    format,
    progress: progress as BuildFlags['progress'],
    ...(builder ? { builder } : {}),
    ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}),
    tls: tlsFiles(values),
    attest,
    ...(sign ? { sign } : {}),
  };
}

/** `--sign`, `--key` and `--signature-format`, checked against what the build pushes. */
function signFlags(values: { sign?: boolean; key?: string; 'signature-format'?: string }, outputs: OutputSpec[], builder: string | undefined): BuildFlags['sign'] {
  if (!values.sign) {
    if (values.key !== undefined || values['signature-format'] !== undefined) throw new UsageError(`${values.key !== undefined ? '--key' : '--signature-format'} needs --sign`);
    return undefined;
  }
  if (!outputs.some((o) => o.type === 'image' && o.push)) throw new UsageError('--sign signs what is pushed: add --push (or --output type=registry)');
  const formats = parseSignatureFormat(values['signature-format']);
  // A farm signs with its own key, which only its coordinators hold.
  if (builder !== undefined) {
    if (values.key !== undefined) throw new UsageError('--key is not sent to a farm: with --builder, --sign signs with the coordinator\'s key (dockyard coordinator --sign-key)');
    return { formats };
  }
  if (values.key === undefined) throw new UsageError('--sign needs --key KEY (a cosign private key file; keyless signing is not supported)');
  return { key: values.key, formats };
}
