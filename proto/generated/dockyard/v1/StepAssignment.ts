// Original file: proto/dockyard/v1/worker.proto

import type { Step as _dockyard_v1_Step, Step__Output as _dockyard_v1_Step__Output } from '../../dockyard/v1/Step.js';
import type { StepInput as _dockyard_v1_StepInput, StepInput__Output as _dockyard_v1_StepInput__Output } from '../../dockyard/v1/StepInput.js';
import type { Long } from '@grpc/proto-loader';

export interface StepAssignment {
  'taskId'?: (string);
  'step'?: (_dockyard_v1_Step | null);
  'inputs'?: (_dockyard_v1_StepInput)[];
  'epoch'?: (number | string | Long);
  'name'?: (string);
  'exported'?: (boolean);
  '_epoch'?: "epoch";
}

export interface StepAssignment__Output {
  'taskId': (string);
  'step': (_dockyard_v1_Step__Output | null);
  'inputs': (_dockyard_v1_StepInput__Output)[];
  'epoch'?: (number);
  'name': (string);
  'exported': (boolean);
  '_epoch'?: "epoch";
}
