// Original file: proto/dockyard/v1/worker.proto


export interface RegisterResponse {
  'workerId'?: (string);
  'sessionId'?: (string);
  'heartbeatIntervalMs'?: (number);
  'heartbeatTimeoutMs'?: (number);
}

export interface RegisterResponse__Output {
  'workerId': (string);
  'sessionId': (string);
  'heartbeatIntervalMs': (number);
  'heartbeatTimeoutMs': (number);
}
