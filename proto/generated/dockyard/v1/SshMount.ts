// Original file: proto/dockyard/v1/step.proto


export interface SshMount {
  'id'?: (string);
  'target'?: (string);
  'required'?: (boolean);
  'mode'?: (number);
  'uid'?: (number);
  'gid'?: (number);
}

export interface SshMount__Output {
  'id': (string);
  'target': (string);
  'required': (boolean);
  'mode': (number);
  'uid': (number);
  'gid': (number);
}
