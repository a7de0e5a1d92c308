// Original file: proto/dockyard/v1/build.proto


export interface LocalOutput {
}

export interface LocalOutput__Output {
}
