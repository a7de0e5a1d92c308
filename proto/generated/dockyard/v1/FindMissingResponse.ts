// Original file: proto/dockyard/v1/content.proto


export interface FindMissingResponse {
  'missing'?: (string)[];
}

export interface FindMissingResponse__Output {
  'missing': (string)[];
}
