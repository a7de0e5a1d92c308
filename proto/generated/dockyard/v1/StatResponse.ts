// Original file: proto/dockyard/v1/content.proto

import type { Long } from '@grpc/proto-loader';

export interface StatResponse {
  'exists'?: (boolean);
  'size'?: (number | string | Long);
  'uploadOffset'?: (number | string | Long);
}

export interface StatResponse__Output {
  'exists': (boolean);
  'size': (number);
  'uploadOffset': (number);
}
