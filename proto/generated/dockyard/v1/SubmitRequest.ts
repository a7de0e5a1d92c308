// Original file: proto/dockyard/v1/build.proto

import type { BuildOptions as _dockyard_v1_BuildOptions, BuildOptions__Output as _dockyard_v1_BuildOptions__Output } from '../../dockyard/v1/BuildOptions.js';

export interface SubmitRequest {
  'options'?: (_dockyard_v1_BuildOptions | null);
  'priority'?: (number);
  'tenant'?: (string);
}

export interface SubmitRequest__Output {
  'options': (_dockyard_v1_BuildOptions__Output | null);
  'priority': (number);
  'tenant': (string);
}
