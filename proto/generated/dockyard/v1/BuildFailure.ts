// Original file: proto/dockyard/v1/build.proto

import type { FailureKind as _dockyard_v1_FailureKind, FailureKind__Output as _dockyard_v1_FailureKind__Output } from '../../dockyard/v1/FailureKind.js';
import type { Failure as _dockyard_v1_Failure, Failure__Output as _dockyard_v1_Failure__Output } from '../../dockyard/v1/Failure.js';

export interface BuildFailure {
  'kind'?: (_dockyard_v1_FailureKind);
  'failure'?: (_dockyard_v1_Failure | null);
  'step'?: (string);
  'line'?: (number);
  '_step'?: "step";
  '_line'?: "line";
}

export interface BuildFailure__Output {
  'kind': (_dockyard_v1_FailureKind__Output);
  'failure': (_dockyard_v1_Failure__Output | null);
  'step'?: (string);
  'line'?: (number);
  '_step'?: "step";
  '_line'?: "line";
}
