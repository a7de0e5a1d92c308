// Original file: proto/dockyard/v1/step.proto


export interface SecretMount {
  'id'?: (string);
  'target'?: (string);
  'env'?: (string);
  'required'?: (boolean);
  'mode'?: (number);
  'uid'?: (number);
  'gid'?: (number);
  '_target'?: "target";
  '_env'?: "env";
}

export interface SecretMount__Output {
  'id': (string);
  'target'?: (string);
  'env'?: (string);
  'required': (boolean);
  'mode': (number);
  'uid': (number);
  'gid': (number);
  '_target'?: "target";
  '_env'?: "env";
}
