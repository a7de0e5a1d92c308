// Original file: proto/dockyard/v1/build.proto


export interface TarOutput {
}

export interface TarOutput__Output {
}
