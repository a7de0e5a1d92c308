// Original file: proto/dockyard/v1/content.proto

import type { Blob as _dockyard_v1_Blob, Blob__Output as _dockyard_v1_Blob__Output } from '../../dockyard/v1/Blob.js';

export interface PutBlobsRequest {
  'blobs'?: (_dockyard_v1_Blob)[];
}

export interface PutBlobsRequest__Output {
  'blobs': (_dockyard_v1_Blob__Output)[];
}
