// Original file: proto/dockyard/v1/step.proto


export interface MkdirAction {
  'dest'?: (number);
  'path'?: (string);
  'mode'?: (number);
  'user'?: (string);
  '_dest'?: "dest";
}

export interface MkdirAction__Output {
  'dest'?: (number);
  'path': (string);
  'mode': (number);
  'user': (string);
  '_dest'?: "dest";
}
