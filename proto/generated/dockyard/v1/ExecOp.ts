// Original file: proto/dockyard/v1/step.proto

import type { NetworkMode as _dockyard_v1_NetworkMode, NetworkMode__Output as _dockyard_v1_NetworkMode__Output } from '../../dockyard/v1/NetworkMode.js';
import type { SecurityMode as _dockyard_v1_SecurityMode, SecurityMode__Output as _dockyard_v1_SecurityMode__Output } from '../../dockyard/v1/SecurityMode.js';
import type { Mount as _dockyard_v1_Mount, Mount__Output as _dockyard_v1_Mount__Output } from '../../dockyard/v1/Mount.js';

export interface ExecOp {
  'args'?: (string)[];
  'env'?: (string)[];
  'cwd'?: (string);
  'user'?: (string);
  'network'?: (_dockyard_v1_NetworkMode);
  'security'?: (_dockyard_v1_SecurityMode);
  'rootfs'?: (number);
  'mounts'?: (_dockyard_v1_Mount)[];
  '_rootfs'?: "rootfs";
}

export interface ExecOp__Output {
  'args': (string)[];
  'env': (string)[];
  'cwd': (string);
  'user': (string);
  'network': (_dockyard_v1_NetworkMode__Output);
  'security': (_dockyard_v1_SecurityMode__Output);
  'rootfs'?: (number);
  'mounts': (_dockyard_v1_Mount__Output)[];
  '_rootfs'?: "rootfs";
}
