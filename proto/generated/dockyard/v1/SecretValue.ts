// Original file: proto/dockyard/v1/worker.proto


export interface SecretValue {
  'taskId'?: (string);
  'requestId'?: (string);
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
}

export interface SecretValue__Output {
  'taskId': (string);
  'requestId': (string);
  'found': (boolean);
  'value': (Buffer);
}
