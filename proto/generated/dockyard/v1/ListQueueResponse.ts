// Original file: proto/dockyard/v1/build.proto

import type { BuildSummary as _dockyard_v1_BuildSummary, BuildSummary__Output as _dockyard_v1_BuildSummary__Output } from '../../dockyard/v1/BuildSummary.js';

export interface ListQueueResponse {
  'builds'?: (_dockyard_v1_BuildSummary)[];
}

export interface ListQueueResponse__Output {
  'builds': (_dockyard_v1_BuildSummary__Output)[];
}
