// Original file: proto/dockyard/v1/content.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadResponse {
  'size'?: (number | string | Long);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface DownloadResponse__Output {
  'size': (number);
  'offset': (number);
  'data': (Buffer);
}
