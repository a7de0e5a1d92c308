import type { OutputSpec } from '../export/output-spec.js';
import type { Platform } from '../../oci/platform.js';
import { ExpectedError } from '../../oci/expected-error.js';

/** A payload the queue refuses: it would put something into Redis that must not be there, or is malformed. */
export class BuildJobError extends ExpectedError {}

/** A context the client uploaded content-addressed: the farm's store holds it under this digest. */
export interface UploadedContext {
  digest: string;
}

export type QueuedNamedContext =
  | { name: string; type: 'uploaded'; digest: string }
  | { name: string; type: 'docker-image'; ref: string };

/**
 * The build request as the CLI has it, made serialisable: contexts by digest (they were uploaded),
 * maps as records, and secrets by id only. A secret's value reaches the worker that mounts it over the
 * step's stream from the client, never through the queue.
 */
export interface BuildRequest {
  dockerfileName: string;
  dockerfileText: string;
  context: UploadedContext;
  namedContexts: QueuedNamedContext[];
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  platforms: Platform[];
  secretIds: string[];
  labels: Record<string, string>;
  outputs: OutputSpec[];
  noCache: boolean;
  noCacheFilter: string[];
  maxParallelism?: number;
  /** `--provenance` / `--sbom`, with what the client resolved for them. */
  attest?: QueuedAttest;
  /** `--sign` on the farm: the formats; the key is the coordinator's. */
  sign?: { formats: ('legacy' | 'bundle')[] };
  /** `--cache-from` / `--cache-to`, registry and inline ones. */
  cacheFrom?: { type: 'registry'; ref: string }[];
  cacheTo?: ({ type: 'registry'; ref: string; mode: 'min' | 'max'; ignoreError: boolean } | { type: 'inline' })[];
}

export interface QueuedAttest {
  provenance?: { mode: 'min' | 'max'; builderId: string };
  sbom: boolean;
  /** The Dockerfile relative to the context (`-` for stdin). */
  dockerfilePath: string;
}

/** What one queued job holds in Redis. */
export interface BuildJobData {
  request: BuildRequest;
  tenant: string;
  /** As BullMQ's: 1 runs first, 2_097_151 last. */
  priority: number;
  submittedAt: string;
  /** Set by a cancel; a coordinator that (re)starts the job fails it at once. */
  cancelRequestedAt?: string;
}

export const MIN_PRIORITY = 1;
/** BullMQ 6 refuses a priority above 2^21 - 1. */
export const MAX_PRIORITY = 2_097_151;
export const DEFAULT_PRIORITY = 1000;

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkTenant(tenant: string): string {
  if (!TENANT.test(tenant)) throw new BuildJobError(`invalid tenant ${JSON.stringify(tenant)}: use letters, digits, '.', '_' and '-' (at most 64)`);
  return tenant;
}

export function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) throw new BuildJobError(`invalid priority ${priority}: expected a whole number from ${MIN_PRIORITY} (first) to ${MAX_PRIORITY}`);
  return priority;
}

type Shape = Record<string, (v: unknown, path: string) => void>;

function fail(path: string, what: string): never {
  throw new BuildJobError(`invalid build job: ${path} ${what}`);
}

const str = (v: unknown, path: string): void => {
  if (typeof v !== 'string') fail(path, 'must be a string');
};
const bool = (v: unknown, path: string): void => {
  if (typeof v !== 'boolean') fail(path, 'must be true or false');
};
const posInt = (v: unknown, path: string): void => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(path, 'must be a positive whole number');
};
const digest = (v: unknown, path: string): void => {
  if (typeof v !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v)) fail(path, 'must be a sha256 digest');
};
const strings = (v: unknown, path: string): void => {
  if (!Array.isArray(v)) fail(path, 'must be a list');
  v.forEach((s, i) => str(s, `${path}[${i}]`));
};
const record = (v: unknown, path: string): void => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  for (const [k, s] of Object.entries(v)) str(s, `${path}.${k}`);
};
const literal =
  (...values: unknown[]) =>
  (v: unknown, path: string): void => {
    if (!values.includes(v)) fail(path, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  };

/** An object with exactly these keys (optional ones may be absent): an unknown key, say a secret's value, is refused. */
function exact(required: Shape, optional: Shape = {}) {
  return (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!(k in required) && !(k in optional)) fail(`${path}.${k}`, 'is not a field of a queued build');
    for (const [k, check] of Object.entries(required)) {
      if (!(k in o)) fail(`${path}.${k}`, 'is missing');
      check(o[k], `${path}.${k}`);
    }
    for (const [k, check] of Object.entries(optional)) if (o[k] !== undefined) check(o[k], `${path}.${k}`);
  };
}

/** A union picked by its `type` field. */
function tagged(variants: Record<string, (v: unknown, path: string) => void>) {
  return (v: unknown, path: string): void => {
    const type = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
    const check = typeof type === 'string' ? variants[type] : undefined;
    if (!check) fail(`${path}.type`, `must be one of ${Object.keys(variants).join(', ')}`);
    check(v, path);
  };
}

const listOf =
  (item: (v: unknown, path: string) => void) =>
  (v: unknown, path: string): void => {
    if (!Array.isArray(v)) fail(path, 'must be a list');
    v.forEach((x, i) => item(x, `${path}[${i}]`));
  };

const platform = exact({ os: str, architecture: str }, { variant: str });
const output = tagged({
  oci: exact({ type: str, dest: str, tar: bool }),
  docker: exact({ type: str, dest: str }),
  local: exact({ type: str, dest: str }),
  tar: exact({ type: str, dest: str }),
  image: exact({ type: str, push: bool, names: strings, pushByDigest: bool }),
});
const namedContext = tagged({
  uploaded: exact({ name: str, type: literal('uploaded'), digest }),
  'docker-image': exact({ name: str, type: literal('docker-image'), ref: str }),
});

const buildRequest = exact(
  {
    dockerfileName: str,
    dockerfileText: str,
    context: exact({ digest }),
    namedContexts: listOf(namedContext),
    tags: strings,
    buildArgs: record,
    platforms: listOf(platform),
    secretIds: strings,
    labels: record,
    outputs: listOf(output),
    noCache: bool,
    noCacheFilter: strings,
  },
  {
    target: str,
    maxParallelism: posInt,
    attest: exact({ sbom: bool, dockerfilePath: str }, { provenance: exact({ mode: literal('min', 'max'), builderId: str }) }),
    sign: exact({ formats: listOf(literal('legacy', 'bundle')) }),
    cacheFrom: listOf(exact({ type: literal('registry'), ref: str })),
    cacheTo: listOf(tagged({ registry: exact({ type: str, ref: str, mode: literal('min', 'max'), ignoreError: bool }), inline: exact({ type: str }) })),
  },
);

/** Checks a request before it is queued: exactly the fields above, so nothing else can ride along into Redis. */
export function checkBuildRequest(value: unknown): BuildRequest {
  buildRequest(value, 'request');
  return value as BuildRequest;
}

const buildJobData = exact(
  {
    request: buildRequest,
    tenant: (v, p) => {
      str(v, p);
      checkTenant(v as string);
    },
    priority: (v, p) => {
      posInt(v, p);
      checkPriority(v as number);
    },
    submittedAt: str,
  },
  { cancelRequestedAt: str },
);

/** Checks what a coordinator read back from Redis before it acts on it. */
export function checkBuildJobData(value: unknown): BuildJobData {
  buildJobData(value, 'job');
  return value as BuildJobData;
}
