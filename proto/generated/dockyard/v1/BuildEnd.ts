// Original file: proto/dockyard/v1/build.proto

import type { BuildResult as _dockyard_v1_BuildResult, BuildResult__Output as _dockyard_v1_BuildResult__Output } from '../../dockyard/v1/BuildResult.js';
import type { BuildFailure as _dockyard_v1_BuildFailure, BuildFailure__Output as _dockyard_v1_BuildFailure__Output } from '../../dockyard/v1/BuildFailure.js';

export interface BuildEnd {
  'result'?: (_dockyard_v1_BuildResult | null);
  'failure'?: (_dockyard_v1_BuildFailure | null);
  'outcome'?: "result"|"failure";
}

export interface BuildEnd__Output {
  'result'?: (_dockyard_v1_BuildResult__Output | null);
  'failure'?: (_dockyard_v1_BuildFailure__Output | null);
  'outcome'?: "result"|"failure";
}
