// Original file: proto/dockyard/v1/content.proto


export interface FindMissingRequest {
  'digests'?: (string)[];
}

export interface FindMissingRequest__Output {
  'digests': (string)[];
}
