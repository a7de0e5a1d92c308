// Original file: proto/dockyard/v1/common.proto

import type { FileTreeOrigin as _dockyard_v1_FileTreeOrigin, FileTreeOrigin__Output as _dockyard_v1_FileTreeOrigin__Output } from '../../dockyard/v1/FileTreeOrigin.js';
import type { FileEntry as _dockyard_v1_FileEntry, FileEntry__Output as _dockyard_v1_FileEntry__Output } from '../../dockyard/v1/FileEntry.js';

export interface FileTree {
  'origin'?: (_dockyard_v1_FileTreeOrigin);
  'checksum'?: (string);
  'entries'?: (_dockyard_v1_FileEntry)[];
}

export interface FileTree__Output {
  'origin': (_dockyard_v1_FileTreeOrigin__Output);
  'checksum': (string);
  'entries': (_dockyard_v1_FileEntry__Output)[];
}
