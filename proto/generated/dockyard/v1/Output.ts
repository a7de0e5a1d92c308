// Original file: proto/dockyard/v1/build.proto

import type { OciOutput as _dockyard_v1_OciOutput, OciOutput__Output as _dockyard_v1_OciOutput__Output } from '../../dockyard/v1/OciOutput.js';
import type { DockerOutput as _dockyard_v1_DockerOutput, DockerOutput__Output as _dockyard_v1_DockerOutput__Output } from '../../dockyard/v1/DockerOutput.js';
import type { LocalOutput as _dockyard_v1_LocalOutput, LocalOutput__Output as _dockyard_v1_LocalOutput__Output } from '../../dockyard/v1/LocalOutput.js';
import type { TarOutput as _dockyard_v1_TarOutput, TarOutput__Output as _dockyard_v1_TarOutput__Output } from '../../dockyard/v1/TarOutput.js';
import type { ImageOutput as _dockyard_v1_ImageOutput, ImageOutput__Output as _dockyard_v1_ImageOutput__Output } from '../../dockyard/v1/ImageOutput.js';

export interface Output {
  'oci'?: (_dockyard_v1_OciOutput | null);
  'docker'?: (_dockyard_v1_DockerOutput | null);
  'local'?: (_dockyard_v1_LocalOutput | null);
  'tar'?: (_dockyard_v1_TarOutput | null);
  'image'?: (_dockyard_v1_ImageOutput | null);
  'output'?: "oci"|"docker"|"local"|"tar"|"image";
}

export interface Output__Output {
  'oci'?: (_dockyard_v1_OciOutput__Output | null);
  'docker'?: (_dockyard_v1_DockerOutput__Output | null);
  'local'?: (_dockyard_v1_LocalOutput__Output | null);
  'tar'?: (_dockyard_v1_TarOutput__Output | null);
  'image'?: (_dockyard_v1_ImageOutput__Output | null);
  'output'?: "oci"|"docker"|"local"|"tar"|"image";
}
