// Original file: proto/dockyard/v1/step.proto

import type { LayerChain as _dockyard_v1_LayerChain, LayerChain__Output as _dockyard_v1_LayerChain__Output } from '../../dockyard/v1/LayerChain.js';
import type { FileTree as _dockyard_v1_FileTree, FileTree__Output as _dockyard_v1_FileTree__Output } from '../../dockyard/v1/FileTree.js';

export interface StepInput {
  'rootfs'?: (_dockyard_v1_LayerChain | null);
  'files'?: (_dockyard_v1_FileTree | null);
  'input'?: "rootfs"|"files";
}

export interface StepInput__Output {
  'rootfs'?: (_dockyard_v1_LayerChain__Output | null);
  'files'?: (_dockyard_v1_FileTree__Output | null);
  'input'?: "rootfs"|"files";
}
