// Original file: proto/dockyard/v1/build.proto

import type { BuildSummary as _dockyard_v1_BuildSummary, BuildSummary__Output as _dockyard_v1_BuildSummary__Output } from '../../dockyard/v1/BuildSummary.js';
import type { BuildEnd as _dockyard_v1_BuildEnd, BuildEnd__Output as _dockyard_v1_BuildEnd__Output } from '../../dockyard/v1/BuildEnd.js';

export interface BuildInfo {
  'summary'?: (_dockyard_v1_BuildSummary | null);
  'end'?: (_dockyard_v1_BuildEnd | null);
  'workers'?: (string)[];
  '_end'?: "end";
}

export interface BuildInfo__Output {
  'summary': (_dockyard_v1_BuildSummary__Output | null);
  'end'?: (_dockyard_v1_BuildEnd__Output | null);
  'workers': (string)[];
  '_end'?: "end";
}
