// Original file: proto/dockyard/v1/common.proto

import type { LayerDescriptor as _dockyard_v1_LayerDescriptor, LayerDescriptor__Output as _dockyard_v1_LayerDescriptor__Output } from '../../dockyard/v1/LayerDescriptor.js';

export interface LayerChain {
  'layers'?: (_dockyard_v1_LayerDescriptor)[];
}

export interface LayerChain__Output {
  'layers': (_dockyard_v1_LayerDescriptor__Output)[];
}
