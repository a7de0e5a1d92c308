// Original file: proto/dockyard/v1/worker.proto


export interface Heartbeat {
  'runningTasks'?: (string)[];
  'freeSlots'?: (number);
  'draining'?: (boolean);
}

export interface Heartbeat__Output {
  'runningTasks': (string)[];
  'freeSlots': (number);
  'draining': (boolean);
}
