// Original file: proto/dockyard/v1/worker.proto


export interface HeartbeatAck {
}

export interface HeartbeatAck__Output {
}
