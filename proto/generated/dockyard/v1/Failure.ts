// Original file: proto/dockyard/v1/common.proto


export interface Failure {
  'message'?: (string);
  'tail'?: (string)[];
  'refused'?: (boolean);
}

export interface Failure__Output {
  'message': (string);
  'tail': (string)[];
  'refused': (boolean);
}
