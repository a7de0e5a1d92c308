// Original file: proto/dockyard/v1/step.proto

export const GitMtime = {
  GIT_MTIME_UNSPECIFIED: 'GIT_MTIME_UNSPECIFIED',
  GIT_MTIME_CHECKOUT: 'GIT_MTIME_CHECKOUT',
  GIT_MTIME_COMMIT: 'GIT_MTIME_COMMIT',
} as const;

export type GitMtime =
  | 'GIT_MTIME_UNSPECIFIED'
  | 0
  | 'GIT_MTIME_CHECKOUT'
  | 1
  | 'GIT_MTIME_COMMIT'
  | 2

export type GitMtime__Output = typeof GitMtime[keyof typeof GitMtime]
