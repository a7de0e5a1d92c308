// Original file: proto/dockyard/v1/step.proto

import type { ImageSource as _dockyard_v1_ImageSource, ImageSource__Output as _dockyard_v1_ImageSource__Output } from '../../dockyard/v1/ImageSource.js';
import type { ContextSource as _dockyard_v1_ContextSource, ContextSource__Output as _dockyard_v1_ContextSource__Output } from '../../dockyard/v1/ContextSource.js';
import type { HttpSource as _dockyard_v1_HttpSource, HttpSource__Output as _dockyard_v1_HttpSource__Output } from '../../dockyard/v1/HttpSource.js';
import type { GitSource as _dockyard_v1_GitSource, GitSource__Output as _dockyard_v1_GitSource__Output } from '../../dockyard/v1/GitSource.js';

export interface SourceOp {
  'image'?: (_dockyard_v1_ImageSource | null);
  'context'?: (_dockyard_v1_ContextSource | null);
  'http'?: (_dockyard_v1_HttpSource | null);
  'git'?: (_dockyard_v1_GitSource | null);
  'source'?: "image"|"context"|"http"|"git";
}

export interface SourceOp__Output {
  'image'?: (_dockyard_v1_ImageSource__Output | null);
  'context'?: (_dockyard_v1_ContextSource__Output | null);
  'http'?: (_dockyard_v1_HttpSource__Output | null);
  'git'?: (_dockyard_v1_GitSource__Output | null);
  'source'?: "image"|"context"|"http"|"git";
}
