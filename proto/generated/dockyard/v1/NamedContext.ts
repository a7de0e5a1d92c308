// Original file: proto/dockyard/v1/build.proto

import type { LocalContext as _dockyard_v1_LocalContext, LocalContext__Output as _dockyard_v1_LocalContext__Output } from '../../dockyard/v1/LocalContext.js';
import type { OciLayoutContext as _dockyard_v1_OciLayoutContext, OciLayoutContext__Output as _dockyard_v1_OciLayoutContext__Output } from '../../dockyard/v1/OciLayoutContext.js';

export interface NamedContext {
  'name'?: (string);
  'local'?: (_dockyard_v1_LocalContext | null);
  'ociLayout'?: (_dockyard_v1_OciLayoutContext | null);
  'dockerImage'?: (string);
  'context'?: "local"|"ociLayout"|"dockerImage";
}

export interface NamedContext__Output {
  'name': (string);
  'local'?: (_dockyard_v1_LocalContext__Output | null);
  'ociLayout'?: (_dockyard_v1_OciLayoutContext__Output | null);
  'dockerImage'?: (string);
  'context'?: "local"|"ociLayout"|"dockerImage";
}
