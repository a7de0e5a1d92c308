import { posix } from 'node:path';
import { isDigest, type Digest } from '../../oci/digest.js';
import { formatPlatform } from '../../oci/platform.js';
import type { CopySpec, Instruction, InstructionOf } from '../dockerfile/instructions.js';
import { chompHeredocContent, parseHeredocWord } from '../dockerfile/heredoc.js';
import { formatGoDuration } from '../dockerfile/duration.js';
import { expandWord } from '../dockerfile/shell-lex.js';
import { parseChmod } from '../../worker/file/file-mode.js';
import { checkStopSignal, exposedPorts } from './config-values.js';
import type { CopySource, ExecMount, FileDefinition, GitSourceDefinition, SourceDefinition, Step, StepGraph, StepKey } from './graph.js';
import { parseGitRef, redactRemote, redactUrlsIn, type GitRef } from './git-ref.js';
import type { PlanEntry, PlanWarning } from './plan-types.js';
import { parseMount } from './run-mounts.js';
import type { StageState } from './stage-state.js';
import { PROXY_ARGS, SOURCE_DATE_EPOCH } from './build-args.js';

/** What lowering a stage needs from the planner around it. */
export interface LoweringScope {
  graph: StepGraph;
  escape: string;
  buildArgs: Map<string, string>;
  usedBuildArgs: Set<string>;
  /** ARGs before the first FROM, with their values for this target. */
  globalArgs: Map<string, string | undefined>;
  /** BUILDPLATFORM, TARGETARCH...: visible in a stage once declared with ARG. */
  platformArgs: Map<string, string>;
  secretIds: Set<string>;
  /** Reports something accepted but questionable, as BuildKit's lint warnings do. */
  warn(warning: PlanWarning): void;
  /** What a `--from` names: another stage (by name or number), a local named context, or an image. */
  from(ref: string, state: StageState): Promise<FromSource>;
  /** Downloads a URL for ADD and gives its content digest; absent offline. */
  fetchUrl?: (url: string, checksum?: string) => Promise<Digest>;
  /** Resolves a git ref to its commit (checking `checksum`) and full ref name; absent offline. */
  resolveGit?: (ref: GitRef) => Promise<{ commit: string; ref: string }>;
  /** Files selected from a local context (`context` is the build context) as a source step. */
  contextSource(include: string[], exclude: string[], state: StageState, name?: string): Promise<Step>;
}

export type FromSource = { type: 'stage'; state: StageState } | { type: 'local'; name: string } | { type: 'image'; step: Step };

/** The file name an ADD of a URL gets: the last segment of its path. */
export function urlFileName(url: string): string {
  const name = new URL(url).pathname.split('/').filter(Boolean).at(-1);
  return name ? decodeURIComponent(name) : '__unnamed__';
}

/** Where a RUN's `#!` heredoc script is mounted, as in BuildKit. */
const HEREDOC_SCRIPT_DIR = '/dev/pipes';

/** The whole command line is one heredoc opener (BuildKit's MustParseHeredoc: errors mean no). */
function singleHeredoc(line: string): boolean {
  try {
    return parseHeredocWord(line) !== undefined;
  } catch {
    return false;
  }
}

/** A new working directory as BuildKit sets it: an absolute path exactly as written, a relative one joined to the current one and cleaned. */
export function workingDir(current: string, path: string): string {
  // posix.resolve from an absolute start joins and cleans like Go's path.Join (no trailing slash).
  const parent = current.startsWith('/') ? current : posix.resolve('/', current);
  if (path === '') return parent;
  return path.startsWith('/') ? path : posix.resolve(parent, path);
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** Lowers the instructions of one stage into graph steps and image-config changes. */
export class StageLowerer {
  readonly entries: PlanEntry[] = [];

  constructor(
    private readonly scope: LoweringScope,
    readonly state: StageState,
  ) {}

  private expand(word: string): string {
    return expandWord(word, this.state.lookup, this.scope.escape);
  }

  private record(ins: Instruction, step?: Step, instruction = ins.original): void {
    this.entries.push({ line: ins.loc.line, instruction, ...(step ? { step: step.key } : {}) });
  }

  /** Records a history entry; `layerStep` is the step whose diff becomes the entry's layer. */
  private history(createdBy: string, layerStep?: Step): void {
    this.state.history.push(layerStep ? { created_by: createdBy, comment: 'buildkit.dockerfile.v0' } : { created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
    this.state.historySteps.push(layerStep?.key ?? null);
  }

  private get platform(): string {
    return formatPlatform(this.state.platform);
  }

  async lower(ins: Instruction): Promise<void> {
    switch (ins.kind) {
      case 'from':
        throw new Error('FROM is handled by the planner');
      case 'run':
        return this.run(ins);
      case 'copy':
      case 'add':
        return this.copy(ins, ins.copy);
      case 'workdir':
        return this.workdir(ins);
      case 'arg':
        return this.arg(ins);
      default:
        this.configChange(ins);
        this.record(ins);
    }
  }

  private configChange(ins: Exclude<Instruction, { kind: 'from' | 'run' | 'copy' | 'add' | 'workdir' | 'arg' }>): void {
    const s = this.state;
    const c = s.config;
    switch (ins.kind) {
      case 'env': {
        const pairs = ins.pairs.map(({ key, value }) => [this.expand(key), this.expand(value)] as const);
        for (const [k, v] of pairs) {
          if (k === '') throw new Error('ENV names can not be blank');
          s.setEnv(k, v);
        }
        return this.history('ENV ' + pairs.map(([k, v]) => `${k}=${v}`).join(' '));
      }
      case 'label': {
        const pairs = ins.pairs.map(({ key, value }) => [this.expand(key), this.expand(value)] as const);
        c.Labels = { ...c.Labels };
        for (const [k, v] of pairs) c.Labels[k] = v;
        return this.history('LABEL ' + pairs.map(([k, v]) => `${k}=${v}`).join(' '));
      }
      case 'maintainer':
        s.author = ins.name;
        return this.history(`MAINTAINER ${ins.name}`);
      case 'expose': {
        // BuildKit sorts the words as written, then writes the exposed ports to history in that order.
        const words = [...ins.ports].sort().flatMap((p) => this.expand(p).split(/\s+/).filter(Boolean));
        const exposed: string[] = [];
        for (const word of words) {
          const spec = exposedPorts(word);
          if (spec.hostMapping) this.scope.warn({ message: `EXPOSE instruction should not define an IP address or host-port mapping, found '${word}': only the container port is exposed`, line: ins.loc.line });
          exposed.push(...spec.ports);
        }
        c.ExposedPorts = { ...c.ExposedPorts };
        for (const key of exposed) c.ExposedPorts[key] = {};
        return this.history(`EXPOSE [${exposed.join(' ')}]`);
      }
      case 'volume': {
        const paths = ins.paths.map((p) => this.expand(p));
        if (paths.some((p) => p.trim() === '')) throw new Error('VOLUME specified can not be an empty string');
        c.Volumes = { ...c.Volumes };
        for (const p of paths) c.Volumes[p] = {};
        return this.history(`VOLUME [${paths.join(' ')}]`);
      }
      case 'user':
        c.User = this.expand(ins.user);
        return this.history(`USER ${c.User}`);
      case 'stopsignal':
        c.StopSignal = checkStopSignal(this.expand(ins.signal));
        return this.history(`STOPSIGNAL ${c.StopSignal}`);
      case 'shell':
        c.Shell = ins.shell;
        return this.history(`SHELL [${ins.shell.join(' ')}]`);
      case 'onbuild':
        // BuildKit records no history entry for ONBUILD.
        c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
        return;
      case 'healthcheck': {
        const h = ins.health;
        c.Healthcheck = {
          Test: h.test,
          ...(h.interval !== undefined ? { Interval: h.interval } : {}),
          ...(h.timeout !== undefined ? { Timeout: h.timeout } : {}),
          ...(h.startPeriod !== undefined ? { StartPeriod: h.startPeriod } : {}),
          ...(h.startInterval !== undefined ? { StartInterval: h.startInterval } : {}),
          ...(h.retries !== undefined ? { Retries: h.retries } : {}),
        };
        // Go's %+v of the config's health check, as BuildKit writes it.
        const d = (ns: number | undefined): string => formatGoDuration(ns ?? 0);
        return this.history(
          `HEALTHCHECK {Test:[${h.test.join(' ')}] Interval:${d(h.interval)} Timeout:${d(h.timeout)} StartPeriod:${d(h.startPeriod)} StartInterval:${d(h.startInterval)} Retries:${h.retries ?? 0}}`,
        );
      }
      case 'cmd': {
        c.Cmd = this.commandArgs(ins.command.args, ins.command.shellForm);
        s.cmdSet = true;
        return this.history(`CMD [${c.Cmd.map((a) => JSON.stringify(a)).join(' ')}]`);
      }
      case 'entrypoint': {
        const args = this.commandArgs(ins.command.args, ins.command.shellForm);
        c.Entrypoint = args.length === 0 ? null : args;
        // A new ENTRYPOINT drops the CMD inherited from the base, unless this stage set one.
        if (!s.cmdSet) c.Cmd = null;
        return this.history(`ENTRYPOINT [${(c.Entrypoint ?? []).map((a) => JSON.stringify(a)).join(' ')}]`);
      }
    }
  }

  /** CMD/ENTRYPOINT arguments; the shell form of nothing is the shell with an empty command, as in BuildKit. */
  private commandArgs(args: string[], shellForm: boolean): string[] {
    return shellForm ? [...this.state.shell, args.join(' ')] : args;
  }

  private arg(ins: InstructionOf<'arg'>): void {
    const { buildArgs, usedBuildArgs, globalArgs, platformArgs } = this.scope;
    const written: string[] = [];
    for (const { name, value } of ins.args) {
      // As BuildKit: --build-arg, else the default written here, else the global value (the
      // automatic platform ARGs are global values that --build-arg may override).
      let resolved: string | undefined;
      if (buildArgs.has(name)) resolved = buildArgs.get(name);
      else if (value !== undefined) resolved = this.expand(value);
      else resolved = globalArgs.get(name) ?? platformArgs.get(name);
      if (buildArgs.has(name)) usedBuildArgs.add(name);
      this.state.declareArg(name, resolved);
      // Proxy values may hold credentials: they never reach history.
      written.push(resolved === undefined || PROXY_ARGS.has(name) ? name : `${name}=${resolved}`);
    }
    this.history('ARG ' + written.join(' '));
    this.record(ins);
  }

  /** The environment RUN sees (ENV and ARG values in effect; proxy ARGs go separately, outside keys). */
  private runEnv(): string[] {
    const env = this.state.runEnv(PROXY_ARGS);
    const epoch = this.scope.buildArgs.get(SOURCE_DATE_EPOCH);
    if (epoch !== undefined && !this.state.args.has(SOURCE_DATE_EPOCH) && !this.state.env.has(SOURCE_DATE_EPOCH)) env.push([SOURCE_DATE_EPOCH, epoch]);
    return env.map(([k, v]) => `${k}=${v}`);
  }

  private async run(ins: InstructionOf<'run'>): Promise<void> {
    const s = this.state;
    const inputs: StepKey[] = [];
    const inputIndex = (key: StepKey): number => {
      const at = inputs.indexOf(key);
      return at >= 0 ? at : inputs.push(key) - 1;
    };
    const rootfs = s.head === null ? null : inputIndex(s.head);

    const command = ins.command.shellForm ? this.shellCommand(ins) : undefined;
    const mounts: ExecMount[] = [];
    if (command?.scriptFile) {
      // As BuildKit: the script is a 0755 file on an otherwise empty filesystem, mounted read-only.
      const { name, content } = command.scriptFile;
      const file: FileDefinition = { action: 'copy', dest: null, sources: [], inline: [{ name, content }], destPath: '/', chmod: '0755', exclude: [], parents: false, unpack: false };
      const step = this.scope.graph.add({ kind: 'file', platform: this.platform, inputs: [], file });
      mounts.push({ type: 'bind', target: HEREDOC_SCRIPT_DIR, input: inputIndex(step.key), source: '/', readonly: true });
    }
    for (const raw of ins.mounts) {
      const spec = parseMount(this.expand(raw), s.workdir);
      switch (spec.type) {
        case 'bind': {
          const from = await this.mountSource(spec.from, spec.source);
          mounts.push({ type: 'bind', target: spec.target, input: from.key === null ? null : inputIndex(from.key), source: from.path, readonly: spec.readonly });
          break;
        }
        case 'cache': {
          const { from: fromRef, source, ...rest } = spec;
          const from = fromRef === undefined ? undefined : await this.mountSource(fromRef, source ?? '/');
          // A cache seeded from an empty stage is a cache seeded from nothing.
          mounts.push(from && from.key !== null ? { ...rest, input: inputIndex(from.key), source: from.path } : rest);
          break;
        }
        case 'secret':
          if (spec.required && !this.scope.secretIds.has(spec.id)) {
            throw new Error(`secret ${spec.id} is required but was not provided: pass --secret id=${spec.id},src=FILE (or env=VAR)`);
          }
          mounts.push(spec);
          break;
        default:
          mounts.push(spec);
      }
    }

    const network = ins.network ?? 'default';
    if (network !== 'default' && network !== 'none' && network !== 'host') throw new Error(`unsupported network mode ${JSON.stringify(network)} (use default, none or host)`);
    const security = ins.security ?? 'sandbox';
    if (security !== 'sandbox' && security !== 'insecure') throw new Error(`unsupported security mode ${JSON.stringify(security)} (use sandbox or insecure)`);

    const args = command ? [...s.shell, command.script] : ins.command.args;
    const env = this.runEnv();
    const step = this.scope.graph.add({
      kind: 'exec',
      platform: this.platform,
      inputs,
      exec: { args, env, cwd: s.workdir, user: s.config.User ?? '', network, security, rootfs, mounts },
    });
    s.head = step.key;
    // Proxy values may hold credentials: as in ARG entries, they never reach history.
    this.history(`RUN ${s.runHistoryArgs(PROXY_ARGS)}${args.join(' ')} # buildkit`, step);
    this.record(ins, step);
  }

  /**
   * The shell command of a shell-form RUN, as BuildKit's dispatchRun makes it. A RUN that is only
   * `<<EOF` runs the heredoc body, or, when the body starts with `#!`, a file holding it, which the
   * kernel then runs with that interpreter. Otherwise the bodies follow the command line and the
   * shell reads them itself.
   */
  private shellCommand(ins: InstructionOf<'run'>): { script: string; scriptFile?: { name: string; content: string } } {
    const { args, heredocs } = ins.command;
    const line = args.join(' ');
    if (heredocs.length === 0) return { script: line };
    if (singleHeredoc(line)) {
      const first = heredocs[0]!;
      const content = first.chomp ? chompHeredocContent(first.content) : first.content;
      if (this.state.platform.os !== 'windows' && content.startsWith('#!')) {
        return { script: posix.join(HEREDOC_SCRIPT_DIR, first.name), scriptFile: { name: first.name, content } };
      }
      return { script: content };
    }
    return { script: line + heredocs.map((h) => '\n' + h.content + h.name).join('') };
  }

  /**
   * Where a RUN mount reads: another stage, an image, or (without from) the context. The key is
   * null for a stage with an empty filesystem (`FROM scratch` and nothing added).
   */
  private async mountSource(fromRef: string | undefined, source: string): Promise<{ key: StepKey | null; path: string }> {
    const path = posix.normalize('/' + source);
    const include = path === '/' ? [] : [path.slice(1)];
    if (fromRef === undefined) return { key: (await this.scope.contextSource(include, [], this.state)).key, path };
    const from = await this.scope.from(fromRef, this.state);
    switch (from.type) {
      case 'stage':
        return { key: from.state.head, path };
      case 'local':
        return { key: (await this.scope.contextSource(include, [], this.state, from.name)).key, path };
      case 'image':
        return { key: from.step.key, path };
    }
  }

  private destPath(dest: string): string {
    const joined = dest.startsWith('/') ? posix.normalize(dest) : posix.join('/', this.state.workdir, dest);
    const dir = dest === '.' || dest === '' || dest.endsWith('/');
    return dir && !joined.endsWith('/') ? joined + '/' : joined;
  }

  private async copy(ins: InstructionOf<'copy'> | InstructionOf<'add'>, spec: CopySpec): Promise<void> {
    const keyword = ins.kind.toUpperCase();
    const s = this.state;
    const sources = spec.sources.map((p) => this.expand(p));
    const dest = this.destPath(this.expand(spec.dest));
    const exclude = spec.exclude.map((p) => this.expand(p));
    const from = spec.from === undefined ? undefined : this.expand(spec.from);
    const chown = spec.chown === undefined ? undefined : this.expand(spec.chown);
    const chmod = spec.chmod === undefined ? undefined : this.expand(spec.chmod);
    const checksum = spec.checksum === undefined ? undefined : this.expand(spec.checksum);
    if (chmod !== undefined) parseChmod(chmod);
    const gitRefs = new Map<string, GitRef>();
    for (const src of from === undefined ? sources : []) {
      const git = parseGitRef(src);
      if (git) gitRefs.set(src, git);
    }
    const isRemote = (p: string): boolean => isUrl(p) || gitRefs.has(p);
    const many = sources.length + spec.inline.length > 1 || sources.some((p) => !isRemote(p) && /[*?[]/.test(p));
    if (many && !dest.endsWith('/')) {
      throw new Error(`When using ${keyword} with more than one source file, the destination must be a directory and end with a /`);
    }

    const inputs: StepKey[] = [];
    const link = spec.link;
    const destInput = link || s.head === null ? null : inputs.push(s.head) - 1;
    const copySources: CopySource[] = [];
    const addSource = (key: StepKey | null, paths: string[]): void => {
      if (key === null) {
        copySources.push({ input: null, paths });
        return;
      }
      const at = inputs.indexOf(key);
      copySources.push({ input: at >= 0 ? at : inputs.push(key) - 1, paths });
    };

    if (from !== undefined) {
      const source = await this.scope.from(from, s);
      if (source.type === 'image') addSource(source.step.key, sources);
      else if (source.type === 'local') addSource((await this.scope.contextSource(sources, exclude, s, source.name)).key, sources);
      else addSource(source.state.head, sources);
    } else {
      const local: string[] = [];
      if (checksum !== undefined && sources.length > 1) throw new Error('--checksum can only be used with a single source');
      for (const src of sources) {
        if (isRemote(src)) {
          if (ins.kind === 'copy') throw new Error(`COPY cannot fetch ${redactUrlsIn(src)}: use ADD for URLs`);
          const git = gitRefs.get(src);
          if (git) {
            const def = await this.gitSource(git, spec.keepGitDir, checksum);
            addSource(this.scope.graph.add({ kind: 'source', platform: this.platform, inputs: [], source: def }).key, ['/']);
            continue;
          }
          // The content's digest, when it can be fetched now, makes the key follow the content. Without
          // fetching (--offline), a --checksum is what a fetch would verify the content against.
          const digest = this.scope.fetchUrl ? await this.scope.fetchUrl(src, checksum) : checksum !== undefined && isDigest(checksum) ? checksum : undefined;
          const def: SourceDefinition = { type: 'http', url: src, ...(checksum ? { checksum } : {}), ...(digest ? { digest } : {}) };
          addSource(this.scope.graph.add({ kind: 'source', platform: this.platform, inputs: [], source: def }).key, [urlFileName(src)]);
        } else local.push(src);
      }
      if (checksum !== undefined && local.length > 0) throw new Error('--checksum can only be used with http(s) sources or git repositories');
      if (local.length > 0) addSource((await this.scope.contextSource(local, exclude, s)).key, local);
    }

    const inline = spec.inline.map((h) => ({ name: h.name, content: h.expand ? this.expand(h.content) : h.content }));
    const file: FileDefinition = {
      action: 'copy',
      dest: destInput,
      sources: copySources,
      inline,
      destPath: dest,
      ...(chown !== undefined ? { chown } : {}),
      ...(chmod !== undefined ? { chmod } : {}),
      exclude,
      parents: spec.parents,
      // Only local archives are unpacked; a downloaded one is copied as it is, as in Docker.
      unpack: ins.kind === 'add' && sources.some((p) => !isRemote(p)),
    };
    const step = this.scope.graph.add({ kind: 'file', platform: this.platform, inputs, file });
    let result = step;
    if (link && s.head !== null) {
      result = this.scope.graph.add({ kind: 'merge', platform: this.platform, inputs: [s.head, step.key] });
    }
    s.head = result.key;
    // BuildKit's history names only --parents, --chown and --chmod (not --from or --link).
    const flags = [spec.parents && '--parents', chown && `--chown=${chown}`, chmod && `--chmod=${chmod}`].filter(Boolean);
    // A git remote's credentials stay out of history and progress.
    const shown = sources.map((p) => (gitRefs.has(p) ? redactUrlsIn(p) : p));
    this.history(`${[keyword, ...flags, ...shown, ...inline.map((h) => '<<' + h.name), dest].join(' ')} # buildkit`, result);
    this.record(ins, result, gitRefs.size > 0 ? redactUrlsIn(ins.original) : ins.original);
  }

  /** The source step of a git ref: resolved to its commit when the build can reach the remote now. */
  private async gitSource(git: GitRef, keepFlag: boolean | undefined, checksumFlag: string | undefined): Promise<GitSourceDefinition> {
    if (keepFlag !== undefined && git.keepGitDir !== undefined && keepFlag !== git.keepGitDir) throw new Error('inconsistent keep-git-dir configuration');
    const keepGitDir = git.keepGitDir ?? keepFlag ?? false;
    if (checksumFlag !== undefined && git.checksum !== undefined && checksumFlag !== git.checksum) {
      throw new Error(`checksum mismatch ${JSON.stringify(checksumFlag)} != ${JSON.stringify(git.checksum)}`);
    }
    const checksum = (git.checksum ?? checksumFlag)?.toLowerCase();
    if (checksum !== undefined && !/^[0-9a-f]+$/.test(checksum)) throw new Error(`invalid checksum ${checksum} for Git URL, expected hex commit hash`);
    const wanted: GitRef = { ...git, keepGitDir, ...(checksum !== undefined ? { checksum } : {}) };
    const resolved = await this.scope.resolveGit?.(wanted);
    return {
      type: 'git',
      remote: redactRemote(git.remote),
      // Resolved, the key follows the commit; the ref name only matters when .git is kept.
      ref: resolved ? (keepGitDir ? resolved.ref : resolved.commit) : git.ref,
      ...(resolved ? { commit: resolved.commit } : {}),
      subdir: git.subdir,
      keepGitDir,
      submodules: git.submodules ?? true,
      mtime: git.mtime ?? 'checkout',
      // Once resolved, the checksum has been verified: it no longer changes what the step is.
      ...(checksum !== undefined && !resolved ? { checksum } : {}),
    };
  }

  private workdir(ins: InstructionOf<'workdir'>): void {
    const s = this.state;
    const wd = workingDir(s.workdir, this.expand(ins.path));
    s.config.WorkingDir = wd;
    const path = posix.resolve('/', wd);
    const step = this.scope.graph.add({
      kind: 'file',
      platform: this.platform,
      inputs: s.head === null ? [] : [s.head],
      file: { action: 'mkdir', dest: s.head === null ? null : 0, path, mode: 0o755, user: s.config.User ?? '' },
    });
    s.head = step.key;
    this.history(`WORKDIR ${wd}`, step);
    this.record(ins, step);
  }
}

