// Original file: proto/dockyard/v1/content.proto


export interface Blob {
  'digest'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface Blob__Output {
  'digest': (string);
  'data': (Buffer);
}
