// Original file: proto/dockyard/v1/build.proto


export interface OciOutput {
  'tar'?: (boolean);
}

export interface OciOutput__Output {
  'tar': (boolean);
}
