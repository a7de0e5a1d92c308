import type { Layer } from './layer.js';
import type { Step } from './step.js';

/**
 * What a step reads from one of its inputs: a root filesystem as a layer chain, or files of a local
 * directory (the build context) limited to the paths that `.dockerignore` lets through.
 */
export type StepInput =
  | { type: 'rootfs'; layers: Layer[] }
  | { type: 'local'; dir: string; allowed: ReadonlySet<string> };

/** A step's result: its filesystem as a layer chain. `emptyLayer` when the step changed nothing. */
export interface StepOutput {
  layers: Layer[];
  emptyLayer: boolean;
}

/** Reads secret values at the moment a RUN needs them; they are never stored. */
export interface SecretSource {
  get(id: string): Promise<Buffer | undefined>;
}

export interface StepContext {
  /** A line of the step's output, for progress. */
  log(line: string): void;
  secrets: SecretSource;
  /** SOURCE_DATE_EPOCH, clamping file times in new layers. */
  epoch?: number;
  signal?: AbortSignal;
  /** The step's own layer will be in an image the build makes: gzip-compressed as it is stored, where others stay uncompressed tars. */
  exported?: boolean;
}

export type ExecutableStep = Extract<Step, { kind: 'exec' | 'file' | 'merge' }>;

/** Runs steps. The local worker runs them in this process; a remote one will over gRPC. */
export interface Worker {
  execute(step: ExecutableStep, inputs: StepInput[], ctx: StepContext): Promise<StepOutput>;
}
