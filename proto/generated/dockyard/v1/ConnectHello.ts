// Original file: proto/dockyard/v1/worker.proto


export interface ConnectHello {
  'workerId'?: (string);
  'sessionId'?: (string);
}

export interface ConnectHello__Output {
  'workerId': (string);
  'sessionId': (string);
}
