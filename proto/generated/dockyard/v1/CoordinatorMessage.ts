// Original file: proto/dockyard/v1/worker.proto

import type { StepAssignment as _dockyard_v1_StepAssignment, StepAssignment__Output as _dockyard_v1_StepAssignment__Output } from '../../dockyard/v1/StepAssignment.js';
import type { SecretValue as _dockyard_v1_SecretValue, SecretValue__Output as _dockyard_v1_SecretValue__Output } from '../../dockyard/v1/SecretValue.js';
import type { CancelStep as _dockyard_v1_CancelStep, CancelStep__Output as _dockyard_v1_CancelStep__Output } from '../../dockyard/v1/CancelStep.js';
import type { HeartbeatAck as _dockyard_v1_HeartbeatAck, HeartbeatAck__Output as _dockyard_v1_HeartbeatAck__Output } from '../../dockyard/v1/HeartbeatAck.js';

export interface CoordinatorMessage {
  'assign'?: (_dockyard_v1_StepAssignment | null);
  'secret'?: (_dockyard_v1_SecretValue | null);
  'cancel'?: (_dockyard_v1_CancelStep | null);
  'heartbeatAck'?: (_dockyard_v1_HeartbeatAck | null);
  'message'?: "assign"|"secret"|"cancel"|"heartbeatAck";
}

export interface CoordinatorMessage__Output {
  'assign'?: (_dockyard_v1_StepAssignment__Output | null);
  'secret'?: (_dockyard_v1_SecretValue__Output | null);
  'cancel'?: (_dockyard_v1_CancelStep__Output | null);
  'heartbeatAck'?: (_dockyard_v1_HeartbeatAck__Output | null);
  'message'?: "assign"|"secret"|"cancel"|"heartbeatAck";
}
