// Original file: proto/dockyard/v1/common.proto

export const FileTreeOrigin = {
  FILE_TREE_ORIGIN_UNSPECIFIED: 'FILE_TREE_ORIGIN_UNSPECIFIED',
  FILE_TREE_ORIGIN_CONTEXT: 'FILE_TREE_ORIGIN_CONTEXT',
  FILE_TREE_ORIGIN_GIT: 'FILE_TREE_ORIGIN_GIT',
  FILE_TREE_ORIGIN_URL: 'FILE_TREE_ORIGIN_URL',
} as const;

export type FileTreeOrigin =
  | 'FILE_TREE_ORIGIN_UNSPECIFIED'
  | 0
  | 'FILE_TREE_ORIGIN_CONTEXT'
  | 1
  | 'FILE_TREE_ORIGIN_GIT'
  | 2
  | 'FILE_TREE_ORIGIN_URL'
  | 3

export type FileTreeOrigin__Output = typeof FileTreeOrigin[keyof typeof FileTreeOrigin]
