import { DEFAULT_PATH, type ContainerConfig, type HistoryEntry, type ImageConfig } from '../../oci/image.js';
import type { Platform } from '../../oci/platform.js';
import type { StepKey } from './graph.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The state a stage carries from one instruction to the next: filesystem, image config, variables. */
export class StageState {
  head: StepKey | null = null;
  /** ENV, in order; a re-set keeps its position, as in Docker. */
  env = new Map<string, string>();
  /** ARGs declared in this stage; `undefined` means declared without a value. */
  args = new Map<string, string | undefined>();
  config: Omit<ContainerConfig, 'Env'> = {};
  author?: string;
  history: HistoryEntry[] = [];
  /** For each history entry, the step whose diff is its layer (null for config-only and base entries). */
  historySteps: (StepKey | null)[] = [];
  /** CMD was set in this stage (an ENTRYPOINT then keeps it). */
  cmdSet = false;

  constructor(public platform: Platform) {}

  /** Variables visible to expansion: ENV wins over ARG. */
  lookup = (name: string): string | undefined => this.env.get(name) ?? this.args.get(name);

  get shell(): string[] {
    return this.config.Shell ?? DEFAULT_SHELL;
  }

  get workdir(): string {
    return this.config.WorkingDir || '/';
  }

  /** Starts from a base image's config. */
  static fromImage(platform: Platform, image: ImageConfig | undefined): StageState {
    const s = new StageState(platform);
    const c = image?.config ?? {};
    for (const kv of c.Env ?? []) {
      const eq = kv.indexOf('=');
      s.env.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
    }
    const { Env: _env, ...rest } = structuredClone(c);
    s.config = rest;
    s.author = image?.author;
    s.history = structuredClone(image?.history ?? []);
    s.historySteps = s.history.map(() => null);
    if (!s.env.has('PATH')) s.env.set('PATH', DEFAULT_PATH);
    return s;
  }

  /** A copy for a stage built FROM this one: config and filesystem carry over, ARGs do not. */
  derive(platform: Platform): StageState {
    const s = new StageState(platform);
    s.head = this.head;
    s.env = new Map(this.env);
    s.config = structuredClone(this.config);
    s.author = this.author;
    s.history = structuredClone(this.history);
    s.historySteps = [...this.historySteps];
    return s;
  }

  envList(): string[] {
    return [...this.env].map(([k, v]) => `${k}=${v}`);
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
