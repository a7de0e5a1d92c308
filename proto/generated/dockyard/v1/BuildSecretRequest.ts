// Original file: proto/dockyard/v1/build.proto


export interface BuildSecretRequest {
  'requestId'?: (string);
  'secretId'?: (string);
}

export interface BuildSecretRequest__Output {
  'requestId': (string);
  'secretId': (string);
}
