// Original file: proto/dockyard/v1/build.proto


export interface QueuePosition {
  'position'?: (number);
}

export interface QueuePosition__Output {
  'position': (number);
}
