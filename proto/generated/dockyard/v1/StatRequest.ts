// Original file: proto/dockyard/v1/content.proto


export interface StatRequest {
  'digest'?: (string);
}

export interface StatRequest__Output {
  'digest': (string);
}
