import { DEFAULT_PATH, type ContainerConfig, type HistoryEntry, type ImageConfig } from '../../oci/image.js';
import type { Platform } from '../../oci/platform.js';
import type { StepKey } from './graph.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The state a stage carries from one instruction to the next: filesystem, image config, variables. */
export class StageState {
  head: StepKey | null = null;
  /** ENV, in order; a re-set keeps its position, as in Docker. This is the image config's Env. */
  env = new Map<string, string>();
  /** Names of the ARGs in scope (this stage's and its parent stage's), in order of first declaration. */
  args = new Set<string>();
  /**
   * What expansion and RUN see: ENV and ARG values, the later one winning (BuildKit adds both to its
   * state's env), so an `ARG V=x` after `ENV V=y` gives `x` here while the image keeps `V=y`.
   */
  vars = new Map<string, string>();
  config: Omit<ContainerConfig, 'Env'> = {};
  author?: string;
  history: HistoryEntry[] = [];
  /** For each history entry, the step whose diff is its layer (null for config-only and base entries). */
  historySteps: (StepKey | null)[] = [];
  /** CMD was set in this stage (an ENTRYPOINT then keeps it). */
  cmdSet = false;

  constructor(public platform: Platform) {}

  /** Variables visible to expansion. */
  lookup = (name: string): string | undefined => this.vars.get(name);

  setEnv(name: string, value: string): void {
    this.env.set(name, value);
    this.vars.set(name, value);
  }

  /** Declares an ARG; one with a value also becomes visible, over an ENV of the same name. */
  declareArg(name: string, value: string | undefined): void {
    this.args.add(name);
    if (value !== undefined) this.vars.set(name, value);
  }

  get shell(): string[] {
    return this.config.Shell ?? DEFAULT_SHELL;
  }

  get workdir(): string {
    return this.config.WorkingDir || '/';
  }

  /** A stage `FROM scratch`: BuildKit's empty image, which has a working directory and a PATH. */
  static empty(platform: Platform): StageState {
    const s = new StageState(platform);
    s.config.WorkingDir = '/';
    s.setEnv('PATH', DEFAULT_PATH);
    return s;
  }

  /** Starts from a base image's config. */
  static fromImage(platform: Platform, image: ImageConfig | undefined): StageState {
    const s = new StageState(platform);
    const c = image?.config ?? {};
    for (const kv of c.Env ?? []) {
      const eq = kv.indexOf('=');
      s.setEnv(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
    }
    const { Env: _env, ...rest } = structuredClone(c);
    s.config = rest;
    s.author = image?.author;
    s.history = structuredClone(image?.history ?? []);
    s.historySteps = s.history.map(() => null);
    if (!s.env.has('PATH')) s.setEnv('PATH', DEFAULT_PATH);
    return s;
  }

  /** A copy for a stage built FROM this one: config, filesystem and (as in BuildKit) ARGs carry over. */
  derive(platform: Platform): StageState {
    const s = new StageState(platform);
    s.head = this.head;
    s.env = new Map(this.env);
    s.args = new Set(this.args);
    s.vars = new Map(this.vars);
    s.config = structuredClone(this.config);
    s.author = this.author;
    s.history = [...this.history]; // entries are never changed once written, so they can be shared
    s.historySteps = [...this.historySteps];
    return s;
  }

  envList(): string[] {
    return [...this.env].map(([k, v]) => `${k}=${v}`);
  }

  /**
   * The environment of a RUN: the image's Env with the values in effect now, then ARGs with a value
   * that no ENV names. `hidden` names (proxy settings) stay out.
   */
  runEnv(hidden: ReadonlySet<string>): [string, string][] {
    const out: [string, string][] = [...this.env.keys()].map((k) => [k, this.vars.get(k)!]);
    for (const k of this.args) {
      if (!this.env.has(k) && this.vars.has(k) && !hidden.has(k)) out.push([k, this.vars.get(k)!]);
    }
    return out;
  }

  /** The `|N A=1 B=` prefix of a RUN's history: every ARG in scope, with its value now or empty. */
  runHistoryArgs(hidden: ReadonlySet<string>): string {
    const pairs = [...this.args].filter((k) => !hidden.has(k)).map((k) => `${k}=${this.vars.get(k) ?? ''}`);
    return pairs.length > 0 ? `|${pairs.length} ${pairs.join(' ')} ` : '';
  }

  image(): Omit<ImageConfig, 'rootfs'> {
    const config: ContainerConfig = { ...structuredClone(this.config), Env: this.envList() };
    const p = this.platform;
    return {
      ...(this.author !== undefined ? { author: this.author } : {}),
      architecture: p.architecture,
      os: p.os,
      ...(p.variant ? { variant: p.variant } : {}),
      config: dropEmpty(config),
      history: this.history,
    };
  }
}

/** Leaves out empty members, as Docker's omitempty does, but keeps an explicit null Cmd/Entrypoint reset out too. */
function dropEmpty(config: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v) && v.length === 0 && k !== 'Cmd' && k !== 'Entrypoint') continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as ContainerConfig;
}
