// Original file: proto/dockyard/v1/build.proto


export interface CancelRequest {
  'buildId'?: (string);
}

export interface CancelRequest__Output {
  'buildId': (string);
}
