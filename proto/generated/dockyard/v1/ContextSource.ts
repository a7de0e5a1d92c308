// Original file: proto/dockyard/v1/step.proto


export interface ContextSource {
  'name'?: (string);
  'include'?: (string)[];
  'exclude'?: (string)[];
  'checksum'?: (string);
}

export interface ContextSource__Output {
  'name': (string);
  'include': (string)[];
  'exclude': (string)[];
  'checksum': (string);
}
