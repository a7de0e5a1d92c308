// Original file: proto/dockyard/v1/worker.proto

import type { LogLine as _dockyard_v1_LogLine, LogLine__Output as _dockyard_v1_LogLine__Output } from '../../dockyard/v1/LogLine.js';
import type { StepProgress as _dockyard_v1_StepProgress, StepProgress__Output as _dockyard_v1_StepProgress__Output } from '../../dockyard/v1/StepProgress.js';
import type { SecretRequest as _dockyard_v1_SecretRequest, SecretRequest__Output as _dockyard_v1_SecretRequest__Output } from '../../dockyard/v1/SecretRequest.js';
import type { StepResult as _dockyard_v1_StepResult, StepResult__Output as _dockyard_v1_StepResult__Output } from '../../dockyard/v1/StepResult.js';
import type { Failure as _dockyard_v1_Failure, Failure__Output as _dockyard_v1_Failure__Output } from '../../dockyard/v1/Failure.js';

export interface StepEvent {
  'taskId'?: (string);
  'log'?: (_dockyard_v1_LogLine | null);
  'progress'?: (_dockyard_v1_StepProgress | null);
  'secretRequest'?: (_dockyard_v1_SecretRequest | null);
  'result'?: (_dockyard_v1_StepResult | null);
  'failure'?: (_dockyard_v1_Failure | null);
  'event'?: "log"|"progress"|"secretRequest"|"result"|"failure";
}

export interface StepEvent__Output {
  'taskId': (string);
  'log'?: (_dockyard_v1_LogLine__Output | null);
  'progress'?: (_dockyard_v1_StepProgress__Output | null);
  'secretRequest'?: (_dockyard_v1_SecretRequest__Output | null);
  'result'?: (_dockyard_v1_StepResult__Output | null);
  'failure'?: (_dockyard_v1_Failure__Output | null);
  'event'?: "log"|"progress"|"secretRequest"|"result"|"failure";
}
