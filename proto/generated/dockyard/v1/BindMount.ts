// Original file: proto/dockyard/v1/step.proto


export interface BindMount {
  'target'?: (string);
  'input'?: (number);
  'source'?: (string);
  'readonly'?: (boolean);
  '_input'?: "input";
}

export interface BindMount__Output {
  'target': (string);
  'input'?: (number);
  'source': (string);
  'readonly': (boolean);
  '_input'?: "input";
}
