// Original file: proto/dockyard/v1/build.proto

import type { Long } from '@grpc/proto-loader';

export interface ProgressEvent {
  'vertex'?: (number);
  'timeUnixMs'?: (number | string | Long);
  'started'?: (string);
  'log'?: (string);
  'cached'?: (boolean);
  'done'?: (boolean);
  'error'?: (string);
  'note'?: (string);
  'event'?: "started"|"log"|"cached"|"done"|"error"|"note";
}

export interface ProgressEvent__Output {
  'vertex': (number);
  'timeUnixMs': (number);
  'started'?: (string);
  'log'?: (string);
  'cached'?: (boolean);
  'done'?: (boolean);
  'error'?: (string);
  'note'?: (string);
  'event'?: "started"|"log"|"cached"|"done"|"error"|"note";
}
