// Original file: proto/dockyard/v1/build.proto


export interface ListQueueRequest {
  'all'?: (boolean);
}

export interface ListQueueRequest__Output {
  'all': (boolean);
}
