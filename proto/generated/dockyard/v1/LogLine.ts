// Original file: proto/dockyard/v1/worker.proto


export interface LogLine {
  'line'?: (string);
}

export interface LogLine__Output {
  'line': (string);
}
