import type { Heredoc, InstructionNode, ParsedDockerfile } from './ast.js';
import { parseGoDuration } from './duration.js';
import { DockerfileError } from './errors.js';
import { parseFlags } from './flags.js';
import { chompHeredocContent, parseHeredocWord } from './heredoc.js';
import { instructionNames } from './line-parsers.js';

/**
 * Typed instructions: what each Dockerfile line means, checked for arity and flags, not yet expanded.
 * Strings that Docker expands (paths, names, flag values) stay raw here; the planner expands them in scope.
 */

export interface Location {
  line: number;
  endLine: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** RUN, CMD, ENTRYPOINT and HEALTHCHECK commands: exec form, or shell form run by the stage's SHELL. */
export interface CommandLine {
  args: string[];
  shellForm: boolean;
  heredocs: Heredoc[];
}

/** A COPY/ADD source given inline as a heredoc. */
export interface InlineSource {
  name: string;
  content: string;
  expand: boolean;
}

export interface CopySpec {
  sources: string[];
  inline: InlineSource[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum?: string;
  /** `--keep-git-dir`; undefined when not given, so that a git URL's own `keep-git-dir` can decide. */
  keepGitDir?: boolean;
}

export interface HealthSpec {
  /** `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`, as in the image config. */
  test: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

interface Base {
  loc: Location;
  /** The instruction as written, continuations joined. */
  original: string;
}

export type Instruction = Base &
  (
    | { kind: 'from'; image: string; stageName?: string; platform?: string }
    | { kind: 'run'; command: CommandLine; mounts: string[]; network?: string; security?: string }
    | { kind: 'cmd'; command: CommandLine }
    | { kind: 'entrypoint'; command: CommandLine }
    | { kind: 'env'; pairs: KeyValue[] }
    | { kind: 'label'; pairs: KeyValue[] }
    | { kind: 'maintainer'; name: string }
    | { kind: 'expose'; ports: string[] }
    | { kind: 'copy'; copy: CopySpec }
    | { kind: 'add'; copy: CopySpec }
    | { kind: 'volume'; paths: string[] }
    | { kind: 'user'; user: string }
    | { kind: 'workdir'; path: string }
    | { kind: 'arg'; args: { name: string; value?: string }[] }
    | { kind: 'onbuild'; expression: string }
    | { kind: 'stopsignal'; signal: string }
    | { kind: 'healthcheck'; health: HealthSpec }
    | { kind: 'shell'; shell: string[] }
  );

export type InstructionOf<K extends Instruction['kind']> = Extract<Instruction, { kind: K }>;

const stageNamePattern = /^[a-z][a-z0-9-_.]*$/;

function exactlyOne(node: InstructionNode, what: string): string {
  if (node.args.length !== 1) throw new Error(`${what} requires exactly one argument`);
  return node.args[0]!;
}

function atLeastOne(node: InstructionNode, what: string): void {
  if (node.args.length === 0) throw new Error(`${what} requires at least one argument`);
}

function noFlags(node: InstructionNode, keyword: string): void {
  parseFlags(node.flags, {}, keyword);
}

function keyValues(node: InstructionNode, keyword: string): KeyValue[] {
  atLeastOne(node, keyword);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < node.args.length; i += 3) {
    const key = node.args[i]!;
    if (key === '') throw new Error(`${keyword} names can not be blank`);
    pairs.push({ key, value: node.args[i + 1] ?? '' });
  }
  return pairs;
}

function commandLine(node: InstructionNode, args = node.args): CommandLine {
  return { args, shellForm: !node.json, heredocs: node.heredocs };
}

function copySpec(node: InstructionNode, keyword: 'COPY' | 'ADD'): CopySpec {
  if (node.args.length < 2) {
    throw new Error(`${keyword} requires at least two arguments, but only ${node.args.length === 0 ? 'none were' : 'one was'} provided. Destination could not be determined`);
  }
  const common = { chown: 'string', chmod: 'string', link: 'bool', exclude: 'list' } as const;
  const flags =
    keyword === 'COPY'
      ? { ...parseFlags(node.flags, { ...common, from: 'string', parents: 'bool' }, keyword), checksum: undefined, 'keep-git-dir': false }
      : { ...parseFlags(node.flags, { ...common, checksum: 'string', 'keep-git-dir': 'bool' }, keyword), from: undefined, parents: false };
  const dest = node.args[node.args.length - 1]!;
  if (parseHeredocWord(dest)) throw new Error(`${keyword} cannot accept a heredoc as a destination`);
  const byName = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const inline: InlineSource[] = [];
  for (const src of node.args.slice(0, -1)) {
    const header = parseHeredocWord(src);
    const heredoc = header && byName.get(header.name);
    if (heredoc) {
      inline.push({ name: heredoc.name, content: heredoc.chomp ? chompHeredocContent(heredoc.content) : heredoc.content, expand: heredoc.expand });
    } else sources.push(src);
  }
  return {
    sources,
    inline,
    dest,
    from: flags.from,
    chown: flags.chown,
    chmod: flags.chmod,
    link: flags.link,
    parents: flags.parents,
    exclude: flags.exclude,
    checksum: flags.checksum,
    keepGitDir: node.flags.some((f) => /^--keep-git-dir(=|$)/.test(f)) ? flags['keep-git-dir'] : undefined,
  };
}

function optionalDuration(value: string | undefined, flag: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ns = parseGoDuration(value);
  if (ns !== 0 && ns < 1e6) throw new Error(`Interval --${flag} cannot be less than 1ms`);
  return ns;
}

function healthcheck(node: InstructionNode): HealthSpec {
  atLeastOne(node, 'HEALTHCHECK');
  const type = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  if (type === 'NONE') {
    if (rest.length > 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    // BuildKit never reads the flags of HEALTHCHECK NONE: `--interval=5s NONE` is accepted, its flags ignored.
    return { test: ['NONE'] };
  }
  const flags = parseFlags(
    node.flags,
    { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
    'HEALTHCHECK',
  );
  if (type !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  let retries: number | undefined;
  if (flags.retries !== undefined && flags.retries !== '') {
    if (!/^[-+]?\d+$/.test(flags.retries)) throw new Error(`invalid --retries value ${JSON.stringify(flags.retries)}: must be a whole number`);
    retries = Number(flags.retries);
    if (retries < 0) throw new Error(`--retries cannot be negative (${retries})`);
  }
  return {
    test: node.json ? ['CMD', ...rest] : ['CMD-SHELL', ...rest],
    interval: optionalDuration(flags.interval, 'interval'),
    timeout: optionalDuration(flags.timeout, 'timeout'),
    startPeriod: optionalDuration(flags['start-period'], 'start-period'),
    startInterval: optionalDuration(flags['start-interval'], 'start-interval'),
    retries,
  };
}

/** Closest instruction name, for "did you mean" hints. */
function suggestInstruction(word: string): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of instructionNames) {
    const d = editDistance(w, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best?.toUpperCase();
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function typed(node: InstructionNode): Instruction {
  const base: Base = { loc: { line: node.startLine, endLine: node.endLine }, original: node.original.trim() };
  switch (node.command) {
    case 'from': {
      const flags = parseFlags(node.flags, { platform: 'string' }, 'FROM');
      const [image, as, name] = node.args;
      if (node.args.length === 3 && as!.toLowerCase() === 'as') {
        const stageName = name!.toLowerCase();
        if (!stageNamePattern.test(stageName)) {
          throw new Error(`invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`);
        }
        return { ...base, kind: 'from', image: image!, stageName, platform: flags.platform };
      }
      if (node.args.length !== 1) throw new Error('FROM requires either one or three arguments (FROM image [AS name])');
      return { ...base, kind: 'from', image: image!, platform: flags.platform };
    }
    case 'run': {
      const flags = parseFlags(node.flags, { mount: 'list', network: 'string', security: 'string' }, 'RUN');
      if (node.args.length === 0) throw new Error('RUN requires at least one argument');
      return { ...base, kind: 'run', command: commandLine(node), mounts: flags.mount, network: flags.network, security: flags.security };
    }
    case 'cmd':
      noFlags(node, 'CMD');
      return { ...base, kind: 'cmd', command: commandLine(node) };
    case 'entrypoint':
      noFlags(node, 'ENTRYPOINT');
      return { ...base, kind: 'entrypoint', command: commandLine(node) };
    case 'env':
      noFlags(node, 'ENV');
      return { ...base, kind: 'env', pairs: keyValues(node, 'ENV') };
    case 'label':
      noFlags(node, 'LABEL');
      return { ...base, kind: 'label', pairs: keyValues(node, 'LABEL') };
    case 'maintainer':
      noFlags(node, 'MAINTAINER');
      return { ...base, kind: 'maintainer', name: exactlyOne(node, 'MAINTAINER') };
    case 'expose':
      noFlags(node, 'EXPOSE');
      atLeastOne(node, 'EXPOSE');
      return { ...base, kind: 'expose', ports: node.args };
    case 'copy':
      return { ...base, kind: 'copy', copy: copySpec(node, 'COPY') };
    case 'add':
      return { ...base, kind: 'add', copy: copySpec(node, 'ADD') };
    case 'volume':
      noFlags(node, 'VOLUME');
      atLeastOne(node, 'VOLUME');
      if (node.args.some((p) => p.trim() === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...base, kind: 'volume', paths: node.args };
    case 'user':
      noFlags(node, 'USER');
      return { ...base, kind: 'user', user: exactlyOne(node, 'USER') };
    case 'workdir':
      noFlags(node, 'WORKDIR');
      return { ...base, kind: 'workdir', path: exactlyOne(node, 'WORKDIR') };
    case 'arg': {
      noFlags(node, 'ARG');
      atLeastOne(node, 'ARG');
      const args = node.args.map((word) => {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        if (name === '') throw new Error(`ARG names can not be blank: ${JSON.stringify(word)}`);
        return eq < 0 ? { name } : { name, value: word.slice(eq + 1) };
      });
      return { ...base, kind: 'arg', args };
    }
    case 'onbuild': {
      noFlags(node, 'ONBUILD');
      if (!node.sub) throw new Error('ONBUILD requires at least one argument');
      const trigger = node.sub.command.toUpperCase();
      if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      typed(node.sub); // reject a malformed trigger now rather than in the child build
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.heredocs) expression += '\n' + h.content + h.name;
      return { ...base, kind: 'onbuild', expression };
    }
    case 'stopsignal':
      noFlags(node, 'STOPSIGNAL');
      return { ...base, kind: 'stopsignal', signal: exactlyOne(node, 'STOPSIGNAL') };
    case 'healthcheck':
      return { ...base, kind: 'healthcheck', health: healthcheck(node) };
    case 'shell':
      noFlags(node, 'SHELL');
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]');
      if (node.args.length === 0) throw new Error('SHELL requires at least one argument');
      return { ...base, kind: 'shell', shell: node.args };
    default: {
      const hint = suggestInstruction(node.command);
      throw new Error(`unknown instruction: ${node.command.toUpperCase()}` + (hint ? ` (did you mean ${hint}?)` : ''));
    }
  }
}

export function toInstruction(node: InstructionNode): Instruction {
  try {
    return typed(node);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    throw new DockerfileError((err as Error).message, node.startLine, node.endLine);
  }
}

export interface StageDefinition {
  index: number;
  from: InstructionOf<'from'>;
  /** The stage's lower-case name, when it has one. */
  name?: string;
  instructions: Instruction[];
}

export interface DockerfileStages {
  /** ARGs before the first FROM: usable in FROM lines. */
  globalArgs: InstructionOf<'arg'>[];
  stages: StageDefinition[];
}

/** Types every instruction and groups them into stages. */
export function toStages(parsed: ParsedDockerfile): DockerfileStages {
  const globalArgs: InstructionOf<'arg'>[] = [];
  const stages: StageDefinition[] = [];
  const names = new Map<string, number>();
  for (const node of parsed.instructions) {
    const ins = toInstruction(node);
    if (ins.kind === 'from') {
      if (ins.stageName !== undefined) {
        const other = names.get(ins.stageName);
        if (other !== undefined) {
          throw new DockerfileError(`duplicate stage name ${JSON.stringify(ins.stageName)} (first used on line ${stages[other]!.from.loc.line})`, ins.loc.line, ins.loc.endLine);
        }
        names.set(ins.stageName, stages.length);
      }
      stages.push({ index: stages.length, from: ins, name: ins.stageName, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.kind !== 'arg') {
        throw new DockerfileError(`${ins.kind.toUpperCase()} must come after a FROM instruction (only ARG may come before the first FROM)`, ins.loc.line, ins.loc.endLine);
      }
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new DockerfileError('no FROM instruction: a Dockerfile needs at least one stage', parsed.instructions[0]?.startLine ?? 1);
  return { globalArgs, stages };
}
