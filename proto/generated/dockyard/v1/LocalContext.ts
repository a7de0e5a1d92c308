// Original file: proto/dockyard/v1/build.proto

import type { FileEntry as _dockyard_v1_FileEntry, FileEntry__Output as _dockyard_v1_FileEntry__Output } from '../../dockyard/v1/FileEntry.js';

export interface LocalContext {
  'entries'?: (_dockyard_v1_FileEntry)[];
  'ignorePatterns'?: (string)[];
  'ignoreFile'?: (string);
  '_ignoreFile'?: "ignoreFile";
}

export interface LocalContext__Output {
  'entries': (_dockyard_v1_FileEntry__Output)[];
  'ignorePatterns': (string)[];
  'ignoreFile'?: (string);
  '_ignoreFile'?: "ignoreFile";
}
