// Original file: proto/dockyard/v1/build.proto


export interface ImageOutput {
  'push'?: (boolean);
  'names'?: (string)[];
  'pushByDigest'?: (boolean);
}

export interface ImageOutput__Output {
  'push': (boolean);
  'names': (string)[];
  'pushByDigest': (boolean);
}
