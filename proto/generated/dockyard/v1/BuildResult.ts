// Original file: proto/dockyard/v1/build.proto

import type { ImageResult as _dockyard_v1_ImageResult, ImageResult__Output as _dockyard_v1_ImageResult__Output } from '../../dockyard/v1/ImageResult.js';
import type { Descriptor as _dockyard_v1_Descriptor, Descriptor__Output as _dockyard_v1_Descriptor__Output } from '../../dockyard/v1/Descriptor.js';
import type { CacheMiss as _dockyard_v1_CacheMiss, CacheMiss__Output as _dockyard_v1_CacheMiss__Output } from '../../dockyard/v1/CacheMiss.js';
import type { PlanWarning as _dockyard_v1_PlanWarning, PlanWarning__Output as _dockyard_v1_PlanWarning__Output } from '../../dockyard/v1/PlanWarning.js';

export interface BuildResult {
  'images'?: (_dockyard_v1_ImageResult)[];
  'top'?: (_dockyard_v1_Descriptor | null);
  'misses'?: (_dockyard_v1_CacheMiss)[];
  'warnings'?: (_dockyard_v1_PlanWarning)[];
  'planJson'?: (string);
  '_planJson'?: "planJson";
}

export interface BuildResult__Output {
  'images': (_dockyard_v1_ImageResult__Output)[];
  'top': (_dockyard_v1_Descriptor__Output | null);
  'misses': (_dockyard_v1_CacheMiss__Output)[];
  'warnings': (_dockyard_v1_PlanWarning__Output)[];
  'planJson'?: (string);
  '_planJson'?: "planJson";
}
