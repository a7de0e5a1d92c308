// Original file: proto/dockyard/v1/step.proto


export interface InlineFile {
  'name'?: (string);
  'content'?: (string);
}

export interface InlineFile__Output {
  'name': (string);
  'content': (string);
}
