// Original file: proto/dockyard/v1/worker.proto

import type { ConnectHello as _dockyard_v1_ConnectHello, ConnectHello__Output as _dockyard_v1_ConnectHello__Output } from '../../dockyard/v1/ConnectHello.js';
import type { Heartbeat as _dockyard_v1_Heartbeat, Heartbeat__Output as _dockyard_v1_Heartbeat__Output } from '../../dockyard/v1/Heartbeat.js';
import type { StepEvent as _dockyard_v1_StepEvent, StepEvent__Output as _dockyard_v1_StepEvent__Output } from '../../dockyard/v1/StepEvent.js';

export interface WorkerMessage {
  'hello'?: (_dockyard_v1_ConnectHello | null);
  'heartbeat'?: (_dockyard_v1_Heartbeat | null);
  'event'?: (_dockyard_v1_StepEvent | null);
  'message'?: "hello"|"heartbeat"|"event";
}

export interface WorkerMessage__Output {
  'hello'?: (_dockyard_v1_ConnectHello__Output | null);
  'heartbeat'?: (_dockyard_v1_Heartbeat__Output | null);
  'event'?: (_dockyard_v1_StepEvent__Output | null);
  'message'?: "hello"|"heartbeat"|"event";
}
