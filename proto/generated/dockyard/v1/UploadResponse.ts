// Original file: proto/dockyard/v1/content.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadResponse {
  'digest'?: (string);
  'size'?: (number | string | Long);
}

export interface UploadResponse__Output {
  'digest': (string);
  'size': (number);
}
