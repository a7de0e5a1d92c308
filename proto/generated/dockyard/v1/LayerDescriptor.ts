// Original file: proto/dockyard/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface LayerDescriptor {
  'digest'?: (string);
  'diffId'?: (string);
  'size'?: (number | string | Long);
  'mediaType'?: (string);
  'gzipOnExport'?: (boolean);
}

export interface LayerDescriptor__Output {
  'digest': (string);
  'diffId': (string);
  'size': (number);
  'mediaType': (string);
  'gzipOnExport': (boolean);
}
