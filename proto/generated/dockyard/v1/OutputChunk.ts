// Original file: proto/dockyard/v1/build.proto


export interface OutputChunk {
  'index'?: (number);
  'data'?: (Buffer | Uint8Array | string);
  'last'?: (boolean);
}

export interface OutputChunk__Output {
  'index': (number);
  'data': (Buffer);
  'last': (boolean);
}
