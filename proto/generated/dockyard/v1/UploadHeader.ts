// Original file: proto/dockyard/v1/content.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadHeader {
  'digest'?: (string);
  'size'?: (number | string | Long);
  'offset'?: (number | string | Long);
}

export interface UploadHeader__Output {
  'digest': (string);
  'size': (number);
  'offset': (number);
}
