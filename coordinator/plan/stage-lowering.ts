import { posix } from 'node:path';
import { isDigest, type Digest } from '../../oci/digest.js';
import { formatPlatform } from '../../oci/platform.js';
import type { CopySpec, Instruction, InstructionOf } from '../dockerfile/instructions.js';
import { expandWord } from '../dockerfile/shell-lex.js';
import { checkStopSignal, exposedPorts } from './config-values.js';
import type { CopySource, ExecMount, FileDefinition, SourceDefinition, Step, StepGraph, StepKey } from './graph.js';
import type { PlanEntry } from './plan-types.js';
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
  /** What a `--from` names: another stage (by name or number), a local named context, or an image. */
  from(ref: string, state: StageState): Promise<FromSource>;
  /** Downloads a URL for ADD and gives its content digest; absent in dry runs. */
  fetchUrl?: (url: string, checksum?: string) => Promise<Digest>;
  /** Files selected from a local context (`context` is the build context) as a source step. */
  contextSource(include: string[], exclude: string[], state: StageState, name?: string): Step;
}

export type FromSource = { type: 'stage'; state: StageState } | { type: 'local'; name: string } | { type: 'image'; step: Step };

/** The file name an ADD of a URL gets: the last segment of its path. */
export function urlFileName(url: string): string {
  const name = new URL(url).pathname.split('/').filter(Boolean).at(-1);
  return name ? decodeURIComponent(name) : '__unnamed__';
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);
const isGitUrl = (s: string): boolean => /^(git:\/\/|git@|ssh:\/\/)/.test(s) || (isUrl(s) && /\.git(#.*)?$/.test(s));

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

  private record(ins: Instruction, step?: Step): void {
    this.entries.push({ line: ins.loc.line, instruction: ins.original, ...(step ? { step: step.key } : {}) });
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
          s.env.set(k, v);
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
        const ports = ins.ports.flatMap((p) => this.expand(p).split(/\s+/).filter(Boolean));
        c.ExposedPorts = { ...c.ExposedPorts };
        for (const p of ports) for (const key of exposedPorts(p)) c.ExposedPorts[key] = {};
        return this.history(`EXPOSE map[${ports.join(' ')}]`);
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
        c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
        return this.history(`ONBUILD ${ins.expression}`);
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
        return this.history(`HEALTHCHECK &{[${h.test.join(' ')}]}`);
      }
      case 'cmd': {
        c.Cmd = this.commandArgs(ins.command.args, ins.command.shellForm);
        s.cmdSet = true;
        return this.history(`CMD [${c.Cmd.map((a) => JSON.stringify(a)).join(' ')}]`);
      }
      case 'entrypoint': {
        const args = this.commandArgs(ins.command.args, ins.command.shellForm);
        c.Entrypoint = args.length === 0 || (ins.command.shellForm && ins.command.args.length === 0) ? null : args;
        // A new ENTRYPOINT drops the CMD inherited from the base, unless this stage set one.
        if (!s.cmdSet) c.Cmd = null;
        return this.history(`ENTRYPOINT [${(c.Entrypoint ?? []).map((a) => JSON.stringify(a)).join(' ')}]`);
      }
    }
  }

  private commandArgs(args: string[], shellForm: boolean): string[] {
    return shellForm && args.length > 0 ? [...this.state.shell, args.join(' ')] : args;
  }

  private arg(ins: InstructionOf<'arg'>): void {
    const { buildArgs, usedBuildArgs, globalArgs, platformArgs } = this.scope;
    const written: string[] = [];
    for (const { name, value } of ins.args) {
      let resolved: string | undefined;
      if (platformArgs.has(name)) resolved = platformArgs.get(name);
      else if (buildArgs.has(name)) resolved = buildArgs.get(name);
      else if (value !== undefined) resolved = this.expand(value);
      else resolved = globalArgs.get(name);
      if (buildArgs.has(name)) usedBuildArgs.add(name);
      this.state.args.set(name, resolved);
      // Proxy values may hold credentials: they never reach history.
      written.push(resolved === undefined || PROXY_ARGS.has(name) ? name : `${name}=${resolved}`);
    }
    this.history('ARG ' + written.join(' '));
    this.record(ins);
  }

  /** ARGs with values that RUN sees as environment; ENV of the same name wins. Proxy ARGs stay out. */
  private runArgs(): [string, string][] {
    const out: [string, string][] = [];
    for (const [k, v] of this.state.args) {
      if (v !== undefined && !this.state.env.has(k) && !PROXY_ARGS.has(k)) out.push([k, v]);
    }
    const epoch = this.scope.buildArgs.get(SOURCE_DATE_EPOCH);
    if (epoch !== undefined && !this.state.args.has(SOURCE_DATE_EPOCH) && !this.state.env.has(SOURCE_DATE_EPOCH)) out.push([SOURCE_DATE_EPOCH, epoch]);
    return out;
  }

  private async run(ins: InstructionOf<'run'>): Promise<void> {
    const s = this.state;
    const inputs: StepKey[] = [];
    const inputIndex = (key: StepKey): number => {
      const at = inputs.indexOf(key);
      return at >= 0 ? at : inputs.push(key) - 1;
    };
    const rootfs = s.head === null ? null : inputIndex(s.head);

    const mounts: ExecMount[] = [];
    for (const raw of ins.mounts) {
      const spec = parseMount(this.expand(raw), s.workdir);
      switch (spec.type) {
        case 'bind': {
          const from = await this.mountSource(spec.from, spec.source);
          mounts.push({ type: 'bind', target: spec.target, input: inputIndex(from.key), source: from.path, readonly: spec.readonly });
          break;
        }
        case 'cache': {
          const { from: fromRef, source, ...rest } = spec;
          const from = fromRef === undefined ? undefined : await this.mountSource(fromRef, source ?? '/');
          mounts.push(from ? { ...rest, input: inputIndex(from.key), source: from.path } : rest);
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

    const args = ins.command.shellForm ? [...s.shell, this.script(ins)] : ins.command.args;
    const runArgs = this.runArgs();
    const env = [...s.envList(), ...runArgs.map(([k, v]) => `${k}=${v}`)];
    const step = this.scope.graph.add({
      kind: 'exec',
      platform: this.platform,
      inputs,
      exec: { args, env, cwd: s.workdir, user: s.config.User ?? '', network, security, rootfs, mounts },
    });
    s.head = step.key;
    const argPrefix = runArgs.length > 0 ? `|${runArgs.length} ${runArgs.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
    this.history(`RUN ${argPrefix}${args.join(' ')} # buildkit`, step);
    this.record(ins, step);
  }

  /**
   * The shell script of a shell-form RUN. A RUN that is only `<<EOF` runs the heredoc body;
   * otherwise the heredoc bodies follow the command line and the shell reads them itself.
   */
  private script(ins: InstructionOf<'run'>): string {
    const { args, heredocs } = ins.command;
    const line = args.join(' ');
    if (heredocs.length === 0) return line;
    const only = heredocs[0]!;
    if (heredocs.length === 1 && /^\d*<<-?\s*["']?[^"'\s]+["']?$/.test(line.trim())) {
      return only.chomp ? only.content.replace(/^\t+/gm, '') : only.content;
    }
    return line + '\n' + heredocs.map((h) => h.content + h.name + '\n').join('');
  }

  /** Where a RUN mount or COPY --from reads: another stage, an image, or (without from) the context. */
  private async mountSource(fromRef: string | undefined, source: string): Promise<{ key: StepKey; path: string }> {
    const path = posix.normalize('/' + source);
    const include = path === '/' ? [] : [path.slice(1)];
    if (fromRef === undefined) return { key: this.scope.contextSource(include, [], this.state).key, path };
    const from = await this.scope.from(fromRef, this.state);
    switch (from.type) {
      case 'stage':
        if (from.state.head === null) throw new Error(`cannot mount from stage ${fromRef}: it has an empty filesystem`);
        return { key: from.state.head, path };
      case 'local':
        return { key: this.scope.contextSource(include, [], this.state, from.name).key, path };
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
    if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod)) throw new Error(`invalid --chmod=${chmod}: use an octal mode such as 0755`);
    const many = sources.length + spec.inline.length > 1 || sources.some((p) => !isUrl(p) && /[*?[]/.test(p));
    if (many && !dest.endsWith('/')) {
      throw new Error(`When using ${keyword} with more than one source file, the destination must be a directory and end with a /`);
    }

    const inputs: StepKey[] = [];
    const link = spec.link;
    const destInput = link || s.head === null ? null : inputs.push(s.head) - 1;
    const copySources: CopySource[] = [];
    const addSource = (key: StepKey, paths: string[]): void => {
      const at = inputs.indexOf(key);
      copySources.push({ input: at >= 0 ? at : inputs.push(key) - 1, paths });
    };

    if (from !== undefined) {
      const source = await this.scope.from(from, s);
      if (source.type === 'image') addSource(source.step.key, sources);
      else if (source.type === 'local') addSource(this.scope.contextSource(sources, exclude, s, source.name).key, sources);
      else if (source.state.head !== null) addSource(source.state.head, sources);
      else throw new Error(`${keyword} --from=${from}: that stage has an empty filesystem`);
    } else {
      const local: string[] = [];
      for (const src of sources) {
        if (isUrl(src) || isGitUrl(src)) {
          if (ins.kind === 'copy') throw new Error(`COPY cannot fetch ${src}: use ADD for URLs`);
          if (isGitUrl(src)) {
            const def: SourceDefinition = { type: 'git', url: src, keepGitDir: spec.keepGitDir };
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
      if (checksum !== undefined && (local.length > 0 || sources.some(isGitUrl))) throw new Error('--checksum can only be used with http(s) sources');
      if (local.length > 0) addSource(this.scope.contextSource(local, exclude, s).key, local);
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
      unpack: ins.kind === 'add' && sources.some((p) => !isUrl(p)),
    };
    const step = this.scope.graph.add({ kind: 'file', platform: this.platform, inputs, file });
    let result = step;
    if (link && s.head !== null) {
      result = this.scope.graph.add({ kind: 'merge', platform: this.platform, inputs: [s.head, step.key] });
    }
    s.head = result.key;
    const flags = [from !== undefined && `--from=${from}`, chown !== undefined && `--chown=${chown}`, chmod !== undefined && `--chmod=${chmod}`, link && '--link'].filter(Boolean);
    this.history(`${[keyword, ...flags, ...sources, ...inline.map((h) => '<<' + h.name), dest].join(' ')} # buildkit`, result);
    this.record(ins, result);
  }

  private workdir(ins: InstructionOf<'workdir'>): void {
    const s = this.state;
    const path = posix.resolve(s.workdir, this.expand(ins.path));
    s.config.WorkingDir = path;
    const step = this.scope.graph.add({
      kind: 'file',
      platform: this.platform,
      inputs: s.head === null ? [] : [s.head],
      file: { action: 'mkdir', dest: s.head === null ? null : 0, path, mode: 0o755, user: s.config.User ?? '' },
    });
    s.head = step.key;
    this.history(`WORKDIR ${path}`, step);
    this.record(ins, step);
  }
}

