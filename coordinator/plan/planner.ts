import { sha256 } from '../../oci/digest.js';
import { formatPlatform, parsePlatform, type Platform } from '../../oci/platform.js';
import { normalizeReference } from '../../oci/reference.js';
import type { BuildContext } from '../context/build-context.js';
import { resolveLayoutImage, type NamedContext } from '../context/named-contexts.js';
import { selectionChecksum } from '../context/selection.js';
import { DockerfileError, withLocation } from '../dockerfile/errors.js';
import { toInstruction, toStages, type InstructionOf, type StageDefinition } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parser.js';
import { prefetchContext } from './context-prefetch.js';
import { expandWord } from '../dockerfile/shell-lex.js';
import { platformArgs, PROXY_ARGS, SOURCE_DATE_EPOCH } from './build-args.js';
import { StepGraph, type SourceDefinition, type Step } from './graph.js';
import type { BuildPlan, PlanOptions, PlanWarning, ResolvedImage, StagePlan, TargetPlan } from './plan-types.js';
import { StageLowerer, type FromSource, type LoweringScope } from './stage-lowering.js';
import { StageState } from './stage-state.js';
import { unresolvedSources } from './unresolved.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { parseReference } from '../../oci/reference.js';

/** A problem with how the build was asked for (flags), rather than with a Dockerfile line. */
export class PlanError extends ExpectedError {}

/** A base image that could not be resolved (registry unreachable, no such tag...). */
class ImageResolveError extends ExpectedError {}

/** The resolver's complaint, naming the image unless it already does (a connection error names only the registry). */
function resolveFailure(ref: string, err: unknown): ImageResolveError {
  const message = err instanceof Error ? err.message : String(err);
  const r = parseReference(ref);
  return new ImageResolveError(message.includes(`${r.domain}/${r.path}`) ? message : `${ref}: ${message}`);
}

interface LoweredStage {
  state: StageState;
  plan: StagePlan;
}

/** Shared by every target platform of one plan, so that identical work is planned once. */
class PlanSession {
  readonly graph = new StepGraph();
  readonly usedBuildArgs = new Set<string>();
  readonly warnings: PlanWarning[] = [];
  private readonly resolved = new Map<string, Promise<ResolvedImage>>();
  private readonly contextSteps = new Map<string, Step>();
  private readonly contexts = new Map<string, BuildContext>();
  private readonly stagesByName: Map<string, StageDefinition>;

  constructor(
    readonly opts: PlanOptions,
    readonly escape: string,
    readonly globalArgs: InstructionOf<'arg'>[],
    readonly stages: StageDefinition[],
  ) {
    this.stagesByName = new Map(stages.flatMap((s) => (s.name ? [[s.name, s] as const] : [])));
  }

  /** The stage of that name (names are unique and lower case), looked up in constant time for long Dockerfiles. */
  stageNamed(name: string): StageDefinition | undefined {
    return this.stagesByName.get(name.toLowerCase());
  }

  /** Adds a warning once, though a stage is lowered for each target platform. */
  warn(w: PlanWarning): void {
    if (!this.warnings.some((x) => x.message === w.message && x.line === w.line)) this.warnings.push(w);
  }

  /** One resolution per image and platform for the whole build. */
  resolveImage(ref: string, platform: Platform): Promise<ResolvedImage> {
    const id = `${ref}|${formatPlatform(platform)}`;
    let r = this.resolved.get(id);
    if (!r) {
      r = this.opts.resolver ? this.opts.resolver.resolve(ref, platform).catch((err: unknown) => Promise.reject(resolveFailure(ref, err))) : Promise.resolve({});
      this.resolved.set(id, r);
    }
    return r;
  }

  /** The build context (`context`) or a local named context, opened once. */
  openContext(name: string): BuildContext {
    let ctx = this.contexts.get(name);
    if (!ctx) {
      ctx = this.opts.context(name);
      this.contexts.set(name, ctx);
    }
    return ctx;
  }

  /** A `--build-context` matching `ref` as written or in its normalised form. */
  namedContext(ref: string): NamedContext | undefined {
    const named = this.opts.namedContexts;
    if (!named || named.size === 0) return undefined;
    const direct = named.get(ref);
    if (direct) return direct;
    const norm = (s: string): string | undefined => {
      try {
        return normalizeReference(s);
      } catch {
        return undefined;
      }
    };
    const want = norm(ref);
    return want === undefined ? undefined : [...named.values()].find((c) => norm(c.name) === want);
  }

  async contextSource(include: string[], exclude: string[], platform: string, name = 'context'): Promise<Step> {
    const id = JSON.stringify([include, exclude, platform, name]);
    const ctx = this.openContext(name);
    // Awaited before the lookup, so that two callers cannot both miss it and add the step twice.
    await ctx.load();
    let step = this.contextSteps.get(id);
    if (!step) {
      const checksum = sha256((include.length === 0 ? ['.'] : include).map((p) => `${p}\0${selectionChecksum(ctx, p, exclude)}`).join('\n'));
      step = this.graph.add({ kind: 'source', platform, inputs: [], source: { type: 'context', name, include, exclude, checksum } });
      this.contextSteps.set(id, step);
    }
    return step;
  }
}

/** Plans one target platform: global ARGs, then the target stage and the stages it needs. */
class TargetPlanner {
  private readonly globalValues = new Map<string, string | undefined>();
  private readonly builtins: Map<string, string>;
  private readonly lowered = new Map<number, LoweredStage>();
  private readonly inProgress: number[] = [];
  private readonly order: StagePlan[] = [];

  constructor(
    private readonly session: PlanSession,
    private readonly platform: Platform,
    targetName: string,
  ) {
    this.builtins = platformArgs(session.opts.buildPlatform, platform, targetName);
    // A --build-arg overrides an automatic platform ARG everywhere, as in BuildKit's defaultArgs.
    for (const name of this.builtins.keys()) {
      const v = session.opts.buildArgs.get(name);
      if (v !== undefined) this.builtins.set(name, v);
    }
    this.evaluateGlobalArgs();
  }

  private globalLookup = (name: string): string | undefined => this.globalValues.get(name) ?? this.builtins.get(name);

  private evaluateGlobalArgs(): void {
    const { buildArgs } = this.session.opts;
    for (const ins of this.session.globalArgs) {
      for (const { name, value } of ins.args) {
        let v: string | undefined;
        try {
          if (buildArgs.has(name)) v = buildArgs.get(name);
          else if (value !== undefined) v = expandWord(value, this.globalLookup, this.session.escape);
          else v = this.globalLookup(name); // a bare ARG keeps what it had (a platform ARG its automatic value)
        } catch (err) {
          throw withLocation(err, ins.loc.line, ins.loc.endLine);
        }
        if (buildArgs.has(name)) this.session.usedBuildArgs.add(name);
        this.globalValues.set(name, v);
      }
    }
  }

  async plan(targetIndex: number): Promise<TargetPlan> {
    const { state } = await this.lowerStage(targetIndex);
    const image = state.image();
    if (this.session.opts.labels.size > 0) image.config.Labels = { ...image.config.Labels, ...Object.fromEntries(this.session.opts.labels) };
    const def = this.session.stages[targetIndex]!;
    return { platform: formatPlatform(this.platform), target: def.name ?? String(targetIndex), stages: this.order, result: state.head, image, historySteps: state.historySteps };
  }

  private stageLabel(def: StageDefinition): string {
    return def.name ?? `stage ${def.index}`;
  }

  /** What `--from=ref` in stage `current` names: a named context first, then a stage, else an image. */
  private async fromRef(ref: string, current: StageDefinition, platform: Platform): Promise<FromSource> {
    const named = this.session.namedContext(ref);
    if (named?.type === 'local') return { type: 'local', name: named.name };
    if (named) return { type: 'image', step: (await this.imageStep(ref, platform)).step };
    const byName = this.session.stageNamed(ref);
    if (byName) return { type: 'stage', state: (await this.lowerStage(byName.index)).state };
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n >= current.index) throw new Error(`invalid --from=${ref}: a stage index must refer to an earlier stage (this is stage ${current.index})`);
      return { type: 'stage', state: (await this.lowerStage(n)).state };
    }
    return { type: 'image', step: (await this.imageStep(ref, platform)).step };
  }

  /** The source step of an image, through a named context (oci-layout, docker-image) when one matches. */
  private async imageStep(ref: string, platform: Platform): Promise<{ step: Step; resolved: ResolvedImage }> {
    const named = this.session.namedContext(ref);
    if (named?.type === 'docker-image') return this.imageStep(named.ref, platform);
    if (named?.type === 'local') throw new Error(`${ref} is a local directory context (--build-context ${named.name}), which cannot be a base image: use COPY --from=${named.name}`);
    let source: Extract<SourceDefinition, { type: 'image' }>;
    let resolved: ResolvedImage;
    if (named?.type === 'oci-layout') {
      const image = resolveLayoutImage(named, platform);
      source = { type: 'image', ref: `oci-layout://${named.name}`, digest: image.manifestDigest };
      resolved = { digest: image.manifestDigest, config: image.config };
    } else {
      const normalized = normalizeReference(ref);
      resolved = await this.session.resolveImage(normalized, platform);
      source = { type: 'image', ref: normalized, ...(resolved.digest ? { digest: resolved.digest } : {}) };
    }
    const step = this.session.graph.add({ kind: 'source', platform: formatPlatform(platform), inputs: [], source });
    return { step, resolved };
  }

  private async lowerStage(index: number): Promise<LoweredStage> {
    // Stages lower each other on demand (FROM, --from), so a chain of stages nests these calls. Yielding
    // once before any work suspends the caller on the heap: the native stack stays flat however long
    // the chain (thousands of stages), while the order of lowering stays the same.
    await Promise.resolve();
    const done = this.lowered.get(index);
    if (done) return done;
    const stages = this.session.stages;
    const def = stages[index]!;
    if (this.inProgress.includes(index)) {
      const cycle = [...this.inProgress.slice(this.inProgress.indexOf(index)), index].map((i) => this.stageLabel(stages[i]!));
      throw new DockerfileError(`circular dependency between stages: ${cycle.join(' -> ')}`, def.from.loc.line, def.from.loc.endLine);
    }
    this.inProgress.push(index);
    const { from } = def;

    let base: string;
    let platform = this.platform;
    let state: StageState;
    let triggers: string[] = [];
    let unresolved = false;
    try {
      base = expandWord(from.image, this.globalLookup, this.session.escape);
      if (base === '') throw new Error(`base name (${from.image}) should not be blank`);
      if (from.platform !== undefined) platform = parsePlatform(expandWord(from.platform, this.globalLookup, this.session.escape));
      // FROM names only earlier stages, so `FROM node AS node` still means the image.
      const named = this.session.namedContext(base) ? undefined : this.session.stageNamed(base);
      const baseStage = named && named.index < index ? named : undefined;
      if (baseStage) {
        const dep = await this.lowerStage(baseStage.index);
        state = dep.state.derive(from.platform !== undefined ? platform : dep.state.platform);
      } else if (base.toLowerCase() === 'scratch' && !this.session.namedContext(base)) {
        state = StageState.empty(platform);
      } else {
        const { step, resolved } = await this.imageStep(base, platform);
        unresolved = resolved.digest === undefined;
        state = StageState.fromImage(platform, resolved.config);
        state.head = step.key;
        triggers = state.config.OnBuild ?? [];
        delete state.config.OnBuild;
      }
    } catch (err) {
      throw withLocation(err, from.loc.line, from.loc.endLine);
    }

    const lowerer = new StageLowerer(this.scope(def), state);
    lowerer.entries.push({ line: from.loc.line, instruction: from.original, ...(state.head ? { step: state.head } : {}) });
    for (const trigger of triggers) {
      try {
        const node = parseDockerfile(trigger).instructions[0]!;
        await lowerer.lower(toInstruction(node));
      } catch (err) {
        throw new DockerfileError(`ONBUILD trigger ${JSON.stringify(trigger)} from ${base}: ${(err as Error).message}`, from.loc.line, from.loc.endLine);
      }
    }
    for (const ins of def.instructions) {
      try {
        await lowerer.lower(ins);
      } catch (err) {
        throw withLocation(err, ins.loc.line, ins.loc.endLine);
      }
    }

    const plan: StagePlan = { index, ...(def.name ? { name: def.name } : {}), base, platform: formatPlatform(state.platform), entries: lowerer.entries, result: state.head, ...(unresolved ? { unresolved: true } : {}) };
    const result = { state, plan };
    this.inProgress.pop();
    this.lowered.set(index, result);
    this.order.push(plan);
    return result;
  }

  private scope(def: StageDefinition): LoweringScope {
    const s = this.session;
    return {
      graph: s.graph,
      escape: s.escape,
      buildArgs: s.opts.buildArgs,
      usedBuildArgs: s.usedBuildArgs,
      globalArgs: this.globalValues,
      platformArgs: this.builtins,
      secretIds: s.opts.secretIds,
      warn: (w) => s.warn(w),
      from: (ref, state) => this.fromRef(ref, def, state.platform),
      ...(s.opts.fetchUrl ? { fetchUrl: s.opts.fetchUrl } : {}),
      ...(s.opts.resolveGit ? { resolveGit: s.opts.resolveGit } : {}),
      contextSource: (include, exclude, state, name) => s.contextSource(include, exclude, formatPlatform(state.platform), name),
    };
  }
}

function parseEpoch(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new PlanError(`invalid SOURCE_DATE_EPOCH ${JSON.stringify(value)}: expected whole seconds since 1970`);
  return Number(value);
}

/** Turns a Dockerfile and build options into a plan: one graph per target platform over shared steps. */
export async function planBuild(opts: PlanOptions): Promise<BuildPlan> {
  const parsed = parseDockerfile(opts.dockerfileText);
  const { globalArgs, stages } = toStages(parsed);
  const sourceDateEpoch = parseEpoch(opts.buildArgs.get(SOURCE_DATE_EPOCH));

  let targetIndex = stages.length - 1;
  if (opts.target !== undefined) {
    const found = stages.find((s) => s.name === opts.target!.toLowerCase());
    if (!found) {
      const names = stages.map((s) => s.name).filter(Boolean);
      throw new PlanError(`target stage ${JSON.stringify(opts.target)} could not be found in ${opts.dockerfileName}` + (names.length ? ` (stages: ${names.join(', ')})` : ' (it has no named stages)'));
    }
    targetIndex = found.index;
  }
  const targetName = stages[targetIndex]!.name ?? String(targetIndex);

  const session = new PlanSession(opts, parsed.directives.escape, globalArgs, stages);
  // The build context is walked in the background while base images resolve and earlier stages plan.
  prefetchContext((name) => session.openContext(name), stages);
  session.warnings.push(...parsed.warnings);
  const syntax = parsed.directives.syntax;
  if (syntax !== undefined && !/^(docker\.io\/)?docker\/dockerfile(-upstream)?(:|@|$)/.test(syntax)) {
    session.warnings.push({ message: `syntax directive ${syntax} is ignored: Dockyard uses its built-in Dockerfile frontend`, line: 1 });
  }

  const platforms = opts.platforms.length > 0 ? opts.platforms : [opts.buildPlatform];
  const targets: TargetPlan[] = [];
  for (const platform of platforms) targets.push(await new TargetPlanner(session, platform, targetName).plan(targetIndex));

  const unused = [...opts.buildArgs.keys()].filter((k) => !session.usedBuildArgs.has(k) && !PROXY_ARGS.has(k) && k !== SOURCE_DATE_EPOCH);
  if (unused.length > 0) session.warnings.push({ message: `build-arg${unused.length > 1 ? 's' : ''} [${unused.join(' ')}] ${unused.length > 1 ? 'were' : 'was'} not consumed by any ARG` });

  return {
    dockerfile: opts.dockerfileName,
    buildPlatform: formatPlatform(opts.buildPlatform),
    targets,
    steps: session.graph.steps(),
    proxyArgs: [...opts.buildArgs.keys()].filter((k) => PROXY_ARGS.has(k)),
    ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
    warnings: session.warnings,
    unresolved: unresolvedSources(session.graph.steps()),
  };
}
