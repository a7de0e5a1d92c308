// Original file: proto/dockyard/v1/step.proto


export interface ImageSource {
  'ref'?: (string);
  'digest'?: (string);
  '_digest'?: "digest";
}

export interface ImageSource__Output {
  'ref': (string);
  'digest'?: (string);
  '_digest'?: "digest";
}
