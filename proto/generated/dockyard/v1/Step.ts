// Original file: proto/dockyard/v1/step.proto

import type { SourceOp as _dockyard_v1_SourceOp, SourceOp__Output as _dockyard_v1_SourceOp__Output } from '../../dockyard/v1/SourceOp.js';
import type { ExecOp as _dockyard_v1_ExecOp, ExecOp__Output as _dockyard_v1_ExecOp__Output } from '../../dockyard/v1/ExecOp.js';
import type { FileOp as _dockyard_v1_FileOp, FileOp__Output as _dockyard_v1_FileOp__Output } from '../../dockyard/v1/FileOp.js';
import type { MergeOp as _dockyard_v1_MergeOp, MergeOp__Output as _dockyard_v1_MergeOp__Output } from '../../dockyard/v1/MergeOp.js';

export interface Step {
  'key'?: (string);
  'platform'?: (string);
  'inputs'?: (string)[];
  'source'?: (_dockyard_v1_SourceOp | null);
  'exec'?: (_dockyard_v1_ExecOp | null);
  'file'?: (_dockyard_v1_FileOp | null);
  'merge'?: (_dockyard_v1_MergeOp | null);
  'op'?: "source"|"exec"|"file"|"merge";
}

export interface Step__Output {
  'key': (string);
  'platform': (string);
  'inputs': (string)[];
  'source'?: (_dockyard_v1_SourceOp__Output | null);
  'exec'?: (_dockyard_v1_ExecOp__Output | null);
  'file'?: (_dockyard_v1_FileOp__Output | null);
  'merge'?: (_dockyard_v1_MergeOp__Output | null);
  'op'?: "source"|"exec"|"file"|"merge";
}
