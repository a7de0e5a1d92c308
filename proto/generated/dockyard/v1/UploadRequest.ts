// Original file: proto/dockyard/v1/content.proto

import type { UploadHeader as _dockyard_v1_UploadHeader, UploadHeader__Output as _dockyard_v1_UploadHeader__Output } from '../../dockyard/v1/UploadHeader.js';

export interface UploadRequest {
  'header'?: (_dockyard_v1_UploadHeader | null);
  'data'?: (Buffer | Uint8Array | string);
  'part'?: "header"|"data";
}

export interface UploadRequest__Output {
  'header'?: (_dockyard_v1_UploadHeader__Output | null);
  'data'?: (Buffer);
  'part'?: "header"|"data";
}
