// Original file: proto/dockyard/v1/build.proto


export interface InspectRequest {
  'buildId'?: (string);
}

export interface InspectRequest__Output {
  'buildId': (string);
}
