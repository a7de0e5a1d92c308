// Original file: proto/dockyard/v1/build.proto

import type { BuildState as _dockyard_v1_BuildState, BuildState__Output as _dockyard_v1_BuildState__Output } from '../../dockyard/v1/BuildState.js';
import type { Long } from '@grpc/proto-loader';

export interface BuildSummary {
  'buildId'?: (string);
  'state'?: (_dockyard_v1_BuildState);
  'tenant'?: (string);
  'priority'?: (number);
  'dockerfileName'?: (string);
  'platforms'?: (string)[];
  'submittedUnixMs'?: (number | string | Long);
  'startedUnixMs'?: (number | string | Long);
  'endedUnixMs'?: (number | string | Long);
  'stepsDone'?: (number);
  'stepsTotal'?: (number);
  '_startedUnixMs'?: "startedUnixMs";
  '_endedUnixMs'?: "endedUnixMs";
}

export interface BuildSummary__Output {
  'buildId': (string);
  'state': (_dockyard_v1_BuildState__Output);
  'tenant': (string);
  'priority': (number);
  'dockerfileName': (string);
  'platforms': (string)[];
  'submittedUnixMs': (number);
  'startedUnixMs'?: (number);
  'endedUnixMs'?: (number);
  'stepsDone': (number);
  'stepsTotal': (number);
  '_startedUnixMs'?: "startedUnixMs";
  '_endedUnixMs'?: "endedUnixMs";
}
