// Original file: proto/dockyard/v1/step.proto


export interface CopySource {
  'input'?: (number);
  'paths'?: (string)[];
  '_input'?: "input";
}

export interface CopySource__Output {
  'input'?: (number);
  'paths': (string)[];
  '_input'?: "input";
}
