import type { Digest } from '../oci/digest.js';

/**
 * The steps a worker executes, as the planner writes them. A step is identified by its cache key:
 * a digest over its kind, platform, definition and the keys of its inputs.
 */
export type StepKey = Digest;

export type SourceDefinition =
  | { type: 'image'; ref: string; digest?: Digest }
  /** Files selected from a local context; `checksum` covers exactly those files. */
  | { type: 'context'; name: string; include: string[]; exclude: string[]; checksum: Digest }
  /** `digest`: of the content, once fetched; with it the step's key follows the content. */
  | { type: 'http'; url: string; checksum?: string; digest?: Digest }
  | GitSourceDefinition;

/**
 * A git repository's tree at one commit. `remote` has its credentials masked (the build keeps the real
 * one aside), so keys and logs never hold them. Once resolved (not in dry runs), `commit` is set and
 * `ref` is the full ref name when `.git` is kept (its refs are part of the result), else the commit:
 * the key then follows the content only, as BuildKit's does.
 */
export interface GitSourceDefinition {
  type: 'git';
  remote: string;
  ref: string;
  commit?: string;
  /** Only this directory of the tree; empty for all of it. */
  subdir: string;
  keepGitDir: boolean;
  submodules: boolean;
  /** `checkout`: files get the time of the checkout; `commit`: the commit's time. */
  mtime: 'checkout' | 'commit';
  /** `--checksum`: a commit (prefix) the ref must resolve to. */
  checksum?: string;
}

export type ExecMount =
  /** `input` null: an empty filesystem (a `FROM scratch` stage with nothing in it). */
  | { type: 'bind'; target: string; input: number | null; source: string; readonly: boolean }
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; readonly: boolean; mode: number; uid: number; gid: number; input?: number; source?: string }
  | { type: 'tmpfs'; target: string; size?: number }
  /** Only the id and where it appears; the value is never part of the plan. */
  | { type: 'secret'; id: string; target?: string; env?: string; required: boolean; mode: number; uid: number; gid: number }
  | { type: 'ssh'; id: string; target: string; required: boolean; mode: number; uid: number; gid: number };

export interface ExecDefinition {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
  /** Index into the step's inputs of the root filesystem, or null for an empty one (FROM scratch). */
  rootfs: number | null;
  mounts: ExecMount[];
}

export interface CopySource {
  /** Index into the step's inputs, or null: an empty filesystem (an empty `FROM scratch` stage). */
  input: number | null;
  /** Paths (wildcards allowed) within that input. */
  paths: string[];
}

export type FileDefinition =
  | {
      action: 'copy';
      /** Index of the destination filesystem in the inputs, or null: empty (FROM scratch, or --link). */
      dest: number | null;
      sources: CopySource[];
      /** Heredoc sources, already expanded when their delimiter was unquoted. */
      inline: { name: string; content: string }[];
      destPath: string;
      chown?: string;
      chmod?: string;
      exclude: string[];
      parents: boolean;
      /** ADD: unpack local archives. */
      unpack: boolean;
    }
  | { action: 'mkdir'; dest: number | null; path: string; mode: number; user: string };

interface StepBase {
  key: StepKey;
  /** `os/arch[/variant]` the step runs on or is built for. */
  platform: string;
  inputs: StepKey[];
}

export type Step =
  | (StepBase & { kind: 'source'; source: SourceDefinition })
  | (StepBase & { kind: 'exec'; exec: ExecDefinition })
  | (StepBase & { kind: 'file'; file: FileDefinition })
  /** Layers its inputs on top of each other: how `--link` copies stay independent of their parent. */
  | (StepBase & { kind: 'merge' });

export type StepKind = Step['kind'];

