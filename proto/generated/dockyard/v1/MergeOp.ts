// Original file: proto/dockyard/v1/step.proto


export interface MergeOp {
}

export interface MergeOp__Output {
}
