// Original file: proto/dockyard/v1/build.proto


export interface SubmitResponse {
  'buildId'?: (string);
}

export interface SubmitResponse__Output {
  'buildId': (string);
}
