// Original file: proto/dockyard/v1/build.proto

import type { QueuePosition as _dockyard_v1_QueuePosition, QueuePosition__Output as _dockyard_v1_QueuePosition__Output } from '../../dockyard/v1/QueuePosition.js';
import type { ProgressEvent as _dockyard_v1_ProgressEvent, ProgressEvent__Output as _dockyard_v1_ProgressEvent__Output } from '../../dockyard/v1/ProgressEvent.js';
import type { BuildSecretRequest as _dockyard_v1_BuildSecretRequest, BuildSecretRequest__Output as _dockyard_v1_BuildSecretRequest__Output } from '../../dockyard/v1/BuildSecretRequest.js';
import type { OutputChunk as _dockyard_v1_OutputChunk, OutputChunk__Output as _dockyard_v1_OutputChunk__Output } from '../../dockyard/v1/OutputChunk.js';
import type { BuildEnd as _dockyard_v1_BuildEnd, BuildEnd__Output as _dockyard_v1_BuildEnd__Output } from '../../dockyard/v1/BuildEnd.js';

export interface BuildEvent {
  'queued'?: (_dockyard_v1_QueuePosition | null);
  'progress'?: (_dockyard_v1_ProgressEvent | null);
  'secretRequest'?: (_dockyard_v1_BuildSecretRequest | null);
  'output'?: (_dockyard_v1_OutputChunk | null);
  'end'?: (_dockyard_v1_BuildEnd | null);
  'event'?: "queued"|"progress"|"secretRequest"|"output"|"end";
}

export interface BuildEvent__Output {
  'queued'?: (_dockyard_v1_QueuePosition__Output | null);
  'progress'?: (_dockyard_v1_ProgressEvent__Output | null);
  'secretRequest'?: (_dockyard_v1_BuildSecretRequest__Output | null);
  'output'?: (_dockyard_v1_OutputChunk__Output | null);
  'end'?: (_dockyard_v1_BuildEnd__Output | null);
  'event'?: "queued"|"progress"|"secretRequest"|"output"|"end";
}
