import { sha256, type Digest } from '../../oci/digest.js';
import { PROXY_ARGS } from '../plan/build-args.js';
import type { Step } from '../plan/graph.js';
import type { BuildPlan, TargetPlan } from '../plan/plan-types.js';
import { digestSet, imagePurl } from './in-toto.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** What `buildDefinition.buildType` names: how Dockyard builds from a Dockerfile (externalParameters below). */
export const DOCKYARD_BUILD_TYPE = 'https://github.com/dockyard-build/dockyard/blob/main/docs/attestations/build-type-v1.md';

export type ProvenanceMode = 'min' | 'max';

/** What a provenance records beyond the plan: the request and the run. */
export interface ProvenanceRun {
  mode: ProvenanceMode;
  builderId: string;
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  builderPlatform: string;
  /** The Dockerfile as the request names it (`Dockerfile`, `docker/app.Dockerfile`, `-` for stdin). */
  dockerfilePath: string;
  dockerfileText: string;
  buildArgs: ReadonlyMap<string, string>;
  labels: ReadonlyMap<string, string>;
  target?: string;
  /** Ids of `--secret`s: listed with mode=max, never their values. */
  secretIds: readonly string[];
  /** A local context's checksum over all its files (after .dockerignore). */
  contextDigest(name: string): Digest;
}

interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
}

export interface ProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: {
      configSource: { path: string; digest: Record<string, string> };
      request: {
        frontend: 'dockerfile.v0';
        args: Record<string, string>;
        locals: { name: string }[];
        secrets?: { id: string }[];
      };
    };
    internalParameters: {
      builderPlatform: string;
      buildConfig?: { steps: BuildStep[] };
    };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: {
      invocationId: string;
      startedOn: string;
      finishedOn: string;
      dockyard_completeness: { request: boolean; resolvedDependencies: boolean };
      dockyard_source?: { filename: string; language: 'Dockerfile'; data: string };
    };
  };
}

/** A step of the build, as mode=max lists it: its definition and inputs, keyed like the graph. */
export interface BuildStep {
  id: Digest;
  kind: Step['kind'];
  inputs: Digest[];
  definition?: unknown;
}

/** Every step the target's stages need, inputs first (the plan's order). */
function stepsOf(plan: BuildPlan, target: TargetPlan): Step[] {
  const byKey = new Map(plan.steps.map((s) => [s.key, s]));
  const wanted = new Set<Digest>();
  const stack: Digest[] = [];
  for (const stage of target.stages) {
    if (stage.result) stack.push(stage.result);
    for (const e of stage.entries) if (e.step) stack.push(e.step);
  }
  if (target.result) stack.push(target.result);
  while (stack.length > 0) {
    const key = stack.pop()!;
    if (wanted.has(key)) continue;
    wanted.add(key);
    stack.push(...(byKey.get(key)?.inputs ?? []));
  }
  return plan.steps.filter((s) => wanted.has(s.key));
}

/** Build args as BuildKit's request records them (`build-arg:NAME`), proxy settings left out: they may hold credentials. */
function requestArgs(run: ProvenanceRun): Record<string, string> {
  const args: Record<string, string> = {};
  for (const [k, v] of [...run.buildArgs].sort(([a], [b]) => a.localeCompare(b))) if (!PROXY_ARGS.has(k)) args[`build-arg:${k}`] = v;
  for (const [k, v] of [...run.labels].sort(([a], [b]) => a.localeCompare(b))) args[`label:${k}`] = v;
  if (run.target) args.target = run.target;
  return args;
}

/** The resolved sources of the target: images (bases, named contexts), URLs and git commits, and local contexts. */
function dependencies(steps: Step[], run: ProvenanceRun): { deps: ResourceDescriptor[]; locals: string[]; complete: boolean } {
  const deps = new Map<string, ResourceDescriptor>();
  const locals = new Set<string>();
  let complete = true;
  for (const s of steps) {
    if (s.kind !== 'source') continue;
    const src = s.source;
    switch (src.type) {
      case 'image':
        if (!src.digest) complete = false;
        // A named context (oci-layout://NAME) is listed under its name as well.
        else deps.set(`image ${src.ref} ${s.platform}`, { uri: imagePurl(src.ref, s.platform), ...(src.ref.startsWith('oci-layout://') ? { name: src.ref.slice('oci-layout://'.length) } : {}), digest: digestSet(src.digest) });
        break;
      case 'http':
        if (!src.digest) complete = false;
        else deps.set(`http ${src.url}`, { uri: src.url, digest: digestSet(src.digest) });
        break;
      case 'git':
        if (!src.commit) complete = false;
        else deps.set(`git ${src.remote} ${src.commit}`, { uri: src.remote, digest: { [src.commit.length === 64 ? 'sha256' : 'sha1']: src.commit } });
        break;
      case 'context':
        locals.add(src.name);
        break;
    }
  }
  // Local contexts have no URI that means anything off this machine: they are named, with their checksum.
  for (const name of [...locals].sort()) deps.set(`local ${name}`, { name, digest: digestSet(run.contextDigest(name)) });
  return { deps: [...deps.values()], locals: [...locals].sort(), complete };
}

/** What a mode=max step shows of its definition: everything the plan holds (never secret values, which it has not). */
function stepDefinition(s: Step): unknown {
  switch (s.kind) {
    case 'source':
      return s.source;
    case 'exec':
      // Proxy values never reach the plan's env; the env here is ENV and ARG values, as in the image history.
      return s.exec;
    case 'file':
      return s.file;
    case 'merge':
      return undefined;
  }
}

/** The SLSA v1 provenance predicate of one platform's image. */
export function provenancePredicate(plan: BuildPlan, target: TargetPlan, run: ProvenanceRun): ProvenancePredicate {
  const steps = stepsOf(plan, target);
  const { deps, locals, complete } = dependencies(steps, run);
  const max = run.mode === 'max';
  return {
    buildDefinition: {
      buildType: DOCKYARD_BUILD_TYPE,
      externalParameters: {
        configSource: { path: run.dockerfilePath, digest: digestSet(sha256(run.dockerfileText)) },
        request: {
          frontend: 'dockerfile.v0',
          args: requestArgs(run),
          locals: locals.map((name) => ({ name })),
          ...(max && run.secretIds.length ? { secrets: [...run.secretIds].sort().map((id) => ({ id })) } : {}),
        },
      },
      internalParameters: {
        builderPlatform: run.builderPlatform,
        ...(max ? { buildConfig: { steps: steps.map((s) => ({ id: s.key, kind: s.kind, inputs: s.inputs, ...(stepDefinition(s) !== undefined ? { definition: stepDefinition(s) } : {}) })) } } : {}),
      },
      resolvedDependencies: deps,
    },
    runDetails: {
      builder: { id: run.builderId },
      metadata: {
        invocationId: run.invocationId,
        startedOn: run.startedOn.toISOString(),
        finishedOn: run.finishedOn.toISOString(),
        dockyard_completeness: { request: true, resolvedDependencies: complete },
        ...(max ? { dockyard_source: { filename: run.dockerfilePath, language: 'Dockerfile' as const, data: run.dockerfileText } } : {}),
      },
    },
  };
}
