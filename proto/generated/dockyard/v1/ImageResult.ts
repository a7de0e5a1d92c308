// Original file: proto/dockyard/v1/build.proto

import type { Descriptor as _dockyard_v1_Descriptor, Descriptor__Output as _dockyard_v1_Descriptor__Output } from '../../dockyard/v1/Descriptor.js';

export interface ImageResult {
  'platform'?: (string);
  'manifest'?: (_dockyard_v1_Descriptor | null);
  'config'?: (_dockyard_v1_Descriptor | null);
}

export interface ImageResult__Output {
  'platform': (string);
  'manifest': (_dockyard_v1_Descriptor__Output | null);
  'config': (_dockyard_v1_Descriptor__Output | null);
}
