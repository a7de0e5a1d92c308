// Original file: proto/dockyard/v1/step.proto

import type { BindMount as _dockyard_v1_BindMount, BindMount__Output as _dockyard_v1_BindMount__Output } from '../../dockyard/v1/BindMount.js';
import type { CacheMount as _dockyard_v1_CacheMount, CacheMount__Output as _dockyard_v1_CacheMount__Output } from '../../dockyard/v1/CacheMount.js';
import type { TmpfsMount as _dockyard_v1_TmpfsMount, TmpfsMount__Output as _dockyard_v1_TmpfsMount__Output } from '../../dockyard/v1/TmpfsMount.js';
import type { SecretMount as _dockyard_v1_SecretMount, SecretMount__Output as _dockyard_v1_SecretMount__Output } from '../../dockyard/v1/SecretMount.js';
import type { SshMount as _dockyard_v1_SshMount, SshMount__Output as _dockyard_v1_SshMount__Output } from '../../dockyard/v1/SshMount.js';

export interface Mount {
  'bind'?: (_dockyard_v1_BindMount | null);
  'cache'?: (_dockyard_v1_CacheMount | null);
  'tmpfs'?: (_dockyard_v1_TmpfsMount | null);
  'secret'?: (_dockyard_v1_SecretMount | null);
  'ssh'?: (_dockyard_v1_SshMount | null);
  'mount'?: "bind"|"cache"|"tmpfs"|"secret"|"ssh";
}

export interface Mount__Output {
  'bind'?: (_dockyard_v1_BindMount__Output | null);
  'cache'?: (_dockyard_v1_CacheMount__Output | null);
  'tmpfs'?: (_dockyard_v1_TmpfsMount__Output | null);
  'secret'?: (_dockyard_v1_SecretMount__Output | null);
  'ssh'?: (_dockyard_v1_SshMount__Output | null);
  'mount'?: "bind"|"cache"|"tmpfs"|"secret"|"ssh";
}
