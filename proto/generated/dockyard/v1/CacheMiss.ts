// Original file: proto/dockyard/v1/build.proto


export interface CacheMiss {
  'step'?: (string);
  'reason'?: (string);
}

export interface CacheMiss__Output {
  'step': (string);
  'reason': (string);
}
