// Original file: proto/dockyard/v1/build.proto


export interface CancelResponse {
  'cancelled'?: (boolean);
}

export interface CancelResponse__Output {
  'cancelled': (boolean);
}
