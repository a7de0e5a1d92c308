// Original file: proto/dockyard/v1/build.proto

import type { Long } from '@grpc/proto-loader';

export interface Descriptor {
  'mediaType'?: (string);
  'digest'?: (string);
  'size'?: (number | string | Long);
}

export interface Descriptor__Output {
  'mediaType': (string);
  'digest': (string);
  'size': (number);
}
