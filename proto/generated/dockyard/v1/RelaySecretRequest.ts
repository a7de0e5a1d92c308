// Original file: proto/dockyard/v1/build.proto


export interface RelaySecretRequest {
  'buildId'?: (string);
  'secretId'?: (string);
}

export interface RelaySecretRequest__Output {
  'buildId': (string);
  'secretId': (string);
}
