// Original file: proto/dockyard/v1/step.proto

import type { LayerDescriptor as _dockyard_v1_LayerDescriptor, LayerDescriptor__Output as _dockyard_v1_LayerDescriptor__Output } from '../../dockyard/v1/LayerDescriptor.js';

export interface StepResult {
  'layers'?: (_dockyard_v1_LayerDescriptor)[];
  'emptyLayer'?: (boolean);
}

export interface StepResult__Output {
  'layers': (_dockyard_v1_LayerDescriptor__Output)[];
  'emptyLayer': (boolean);
}
