import type { Digest } from '../../oci/digest.js';
import type { ImageConfig } from '../../oci/image.js';
import type { Platform } from '../../oci/platform.js';
import type { BuildContext } from '../context/build-context.js';
import type { NamedContext } from '../context/named-contexts.js';
import type { GitRef } from './git-ref.js';
import type { Step, StepKey } from './graph.js';

/** What a base image brings: its pinned digest and its config (Env, Cmd, OnBuild triggers...); neither when unresolved. */
export interface ResolvedImage {
  digest?: Digest;
  config?: ImageConfig;
}

/** Looks up base images. The registry client and named contexts implement it; without one, bases stay unresolved. */
export interface ImageResolver {
  resolve(ref: string, platform: Platform): Promise<ResolvedImage>;
}

export interface PlanOptions {
  /** How the Dockerfile is named in messages. */
  dockerfileName: string;
  dockerfileText: string;
  /**
   * Opens a local context by name: `context` is the build context, other names are local
   * `--build-context`s. Called lazily: a Dockerfile that copies nothing never walks a context.
   */
  context: (name: string) => BuildContext;
  buildArgs: Map<string, string>;
  target?: string;
  /** Target platforms; the build platform when empty. */
  platforms: Platform[];
  buildPlatform: Platform;
  /** `--label`: added to the final image. */
  labels: Map<string, string>;
  /** Ids given with `--secret`; values are never read by the planner. */
  secretIds: Set<string>;
  resolver?: ImageResolver;
  /** Downloads ADD URLs during planning so that their keys follow their content; absent with --offline. */
  fetchUrl?: (url: string, checksum?: string) => Promise<Digest>;
  /** Resolves ADD git refs to commits during planning, so that their keys follow the commit (absent offline). */
  resolveGit?: (ref: GitRef) => Promise<{ commit: string; ref: string }>;
  /** `--build-context NAME=...`: replaces `FROM NAME`, `COPY --from=NAME` and `--mount from=NAME`. */
  namedContexts?: Map<string, NamedContext>;
}

export interface PlanWarning {
  message: string;
  line?: number;
}

/** One instruction of a stage and what it became: a step of the graph, or only a change of the image config. */
export interface PlanEntry {
  line: number;
  instruction: string;
  /** The step that carries this instruction's result; absent for config-only instructions. */
  step?: StepKey;
}

export interface StagePlan {
  index: number;
  name?: string;
  /** The expanded FROM: an image reference, `scratch`, or another stage's name. */
  base: string;
  platform: string;
  entries: PlanEntry[];
  /** The stage's final filesystem; null when it is empty (FROM scratch with no layers). */
  result: StepKey | null;
  /** The base is an image that could not be resolved (`--offline`): its config is missing from the stage. */
  unresolved?: true;
}

/**
 * A remote source the plan could not pin (`--offline`, or planning without a resolver): an image
 * without its digest and config, a URL without its content digest, a git ref without its commit. Its
 * key, and the keys of the steps that use it, differ from a real build's.
 */
export interface UnresolvedSource {
  key: StepKey;
  type: 'image' | 'http' | 'git';
  /** The image reference or URL. */
  ref: string;
  platform: string;
}

export interface TargetPlan {
  platform: string;
  /** The stage that is built: its name, or its index when it has none. */
  target: string;
  /** Only the stages the target needs, dependencies first. */
  stages: StagePlan[];
  result: StepKey | null;
  /** The image config the result gets, minus what only execution knows (layer diff_ids, times). */
  image: Omit<ImageConfig, 'rootfs'>;
  /** Parallel to `image.history`: the step whose diff each entry's layer is, or null. */
  historySteps: (StepKey | null)[];
}

export interface BuildPlan {
  dockerfile: string;
  buildPlatform: string;
  targets: TargetPlan[];
  /** Every step once, inputs before the steps that use them. */
  steps: Step[];
  /** Proxy ARG names passed to RUN steps but kept out of keys (values are not recorded here). */
  proxyArgs: string[];
  /** `SOURCE_DATE_EPOCH` as seconds, when given: clamps times in the image. */
  sourceDateEpoch?: number;
  warnings: PlanWarning[];
  /** Source steps the plan could not pin, in graph order; empty when every source was resolved. */
  unresolved: UnresolvedSource[];
}
