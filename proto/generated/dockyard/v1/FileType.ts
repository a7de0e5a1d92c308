// Original file: proto/dockyard/v1/common.proto

export const FileType = {
  FILE_TYPE_UNSPECIFIED: 'FILE_TYPE_UNSPECIFIED',
  FILE_TYPE_FILE: 'FILE_TYPE_FILE',
  FILE_TYPE_DIR: 'FILE_TYPE_DIR',
  FILE_TYPE_SYMLINK: 'FILE_TYPE_SYMLINK',
} as const;

export type FileType =
  | 'FILE_TYPE_UNSPECIFIED'
  | 0
  | 'FILE_TYPE_FILE'
  | 1
  | 'FILE_TYPE_DIR'
  | 2
  | 'FILE_TYPE_SYMLINK'
  | 3

export type FileType__Output = typeof FileType[keyof typeof FileType]
