// Original file: proto/dockyard/v1/step.proto

import type { CopyAction as _dockyard_v1_CopyAction, CopyAction__Output as _dockyard_v1_CopyAction__Output } from '../../dockyard/v1/CopyAction.js';
import type { MkdirAction as _dockyard_v1_MkdirAction, MkdirAction__Output as _dockyard_v1_MkdirAction__Output } from '../../dockyard/v1/MkdirAction.js';

export interface FileOp {
  'copy'?: (_dockyard_v1_CopyAction | null);
  'mkdir'?: (_dockyard_v1_MkdirAction | null);
  'action'?: "copy"|"mkdir";
}

export interface FileOp__Output {
  'copy'?: (_dockyard_v1_CopyAction__Output | null);
  'mkdir'?: (_dockyard_v1_MkdirAction__Output | null);
  'action'?: "copy"|"mkdir";
}
