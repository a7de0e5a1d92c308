// Original file: proto/dockyard/v1/worker.proto


export interface SecretRequest {
  'requestId'?: (string);
  'secretId'?: (string);
}

export interface SecretRequest__Output {
  'requestId': (string);
  'secretId': (string);
}
