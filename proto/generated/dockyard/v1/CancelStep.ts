// Original file: proto/dockyard/v1/worker.proto


export interface CancelStep {
  'taskId'?: (string);
  'reason'?: (string);
}

export interface CancelStep__Output {
  'taskId': (string);
  'reason': (string);
}
