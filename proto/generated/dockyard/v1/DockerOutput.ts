// Original file: proto/dockyard/v1/build.proto


export interface DockerOutput {
}

export interface DockerOutput__Output {
}
