// Original file: proto/dockyard/v1/step.proto

import type { Long } from '@grpc/proto-loader';

export interface TmpfsMount {
  'target'?: (string);
  'size'?: (number | string | Long);
  '_size'?: "size";
}

export interface TmpfsMount__Output {
  'target': (string);
  'size'?: (number);
  '_size'?: "size";
}
