// Original file: proto/dockyard/v1/build.proto


export interface RelaySecretResponse {
  'attached'?: (boolean);
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
}

export interface RelaySecretResponse__Output {
  'attached': (boolean);
  'found': (boolean);
  'value': (Buffer);
}
