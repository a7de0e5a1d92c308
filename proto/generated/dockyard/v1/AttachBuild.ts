// Original file: proto/dockyard/v1/build.proto


export interface AttachBuild {
  'buildId'?: (string);
}

export interface AttachBuild__Output {
  'buildId': (string);
}
