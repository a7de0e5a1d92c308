// Original file: proto/dockyard/v1/content.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadRequest {
  'digest'?: (string);
  'offset'?: (number | string | Long);
}

export interface DownloadRequest__Output {
  'digest': (string);
  'offset': (number);
}
