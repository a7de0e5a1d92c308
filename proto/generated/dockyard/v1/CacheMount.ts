// Original file: proto/dockyard/v1/step.proto

import type { CacheSharing as _dockyard_v1_CacheSharing, CacheSharing__Output as _dockyard_v1_CacheSharing__Output } from '../../dockyard/v1/CacheSharing.js';

export interface CacheMount {
  'target'?: (string);
  'id'?: (string);
  'sharing'?: (_dockyard_v1_CacheSharing);
  'readonly'?: (boolean);
  'mode'?: (number);
  'uid'?: (number);
  'gid'?: (number);
  'input'?: (number);
  'source'?: (string);
  '_input'?: "input";
  '_source'?: "source";
}

export interface CacheMount__Output {
  'target': (string);
  'id': (string);
  'sharing': (_dockyard_v1_CacheSharing__Output);
  'readonly': (boolean);
  'mode': (number);
  'uid': (number);
  'gid': (number);
  'input'?: (number);
  'source'?: (string);
  '_input'?: "input";
  '_source'?: "source";
}
