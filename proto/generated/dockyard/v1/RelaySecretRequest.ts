// Original file: proto/dockyard/v1/build.proto


export interface RelaySecretRequest {
  'buildId'?: (string);
  'secretId'?: (string);
  'grant'?: (string);
}

export interface RelaySecretRequest__Output {
  'buildId': (string);
  'secretId': (string);
  'grant': (string);
}
