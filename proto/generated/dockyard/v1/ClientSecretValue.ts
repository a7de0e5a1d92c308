// Original file: proto/dockyard/v1/build.proto


export interface ClientSecretValue {
  'requestId'?: (string);
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
}

export interface ClientSecretValue__Output {
  'requestId': (string);
  'found': (boolean);
  'value': (Buffer);
}
