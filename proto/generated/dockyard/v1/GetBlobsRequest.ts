// Original file: proto/dockyard/v1/content.proto


export interface GetBlobsRequest {
  'digests'?: (string)[];
}

export interface GetBlobsRequest__Output {
  'digests': (string)[];
}
