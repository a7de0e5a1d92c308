// Original file: proto/dockyard/v1/content.proto


export interface PutBlobsResponse {
}

export interface PutBlobsResponse__Output {
}
