// Original file: proto/dockyard/v1/common.proto

import type { FileType as _dockyard_v1_FileType, FileType__Output as _dockyard_v1_FileType__Output } from '../../dockyard/v1/FileType.js';
import type { Long } from '@grpc/proto-loader';

export interface FileEntry {
  'path'?: (string);
  'type'?: (_dockyard_v1_FileType);
  'mode'?: (number);
  'uid'?: (number);
  'gid'?: (number);
  'size'?: (number | string | Long);
  'digest'?: (string);
  'linkTarget'?: (string);
  '_digest'?: "digest";
  '_linkTarget'?: "linkTarget";
}

export interface FileEntry__Output {
  'path': (string);
  'type': (_dockyard_v1_FileType__Output);
  'mode': (number);
  'uid': (number);
  'gid': (number);
  'size': (number);
  'digest'?: (string);
  'linkTarget'?: (string);
  '_digest'?: "digest";
  '_linkTarget'?: "linkTarget";
}
