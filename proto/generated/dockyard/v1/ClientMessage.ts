// Original file: proto/dockyard/v1/build.proto

import type { AttachBuild as _dockyard_v1_AttachBuild, AttachBuild__Output as _dockyard_v1_AttachBuild__Output } from '../../dockyard/v1/AttachBuild.js';
import type { ClientSecretValue as _dockyard_v1_ClientSecretValue, ClientSecretValue__Output as _dockyard_v1_ClientSecretValue__Output } from '../../dockyard/v1/ClientSecretValue.js';

export interface ClientMessage {
  'attach'?: (_dockyard_v1_AttachBuild | null);
  'secret'?: (_dockyard_v1_ClientSecretValue | null);
  'message'?: "attach"|"secret";
}

export interface ClientMessage__Output {
  'attach'?: (_dockyard_v1_AttachBuild__Output | null);
  'secret'?: (_dockyard_v1_ClientSecretValue__Output | null);
  'message'?: "attach"|"secret";
}
