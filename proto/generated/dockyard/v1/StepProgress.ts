// Original file: proto/dockyard/v1/worker.proto

import type { Long } from '@grpc/proto-loader';

export interface StepProgress {
  'action'?: (string);
  'current'?: (number | string | Long);
  'total'?: (number | string | Long);
}

export interface StepProgress__Output {
  'action': (string);
  'current': (number);
  'total': (number);
}
