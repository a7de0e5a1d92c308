// Original file: proto/dockyard/v1/step.proto

export const CacheSharing = {
  CACHE_SHARING_UNSPECIFIED: 'CACHE_SHARING_UNSPECIFIED',
  CACHE_SHARING_SHARED: 'CACHE_SHARING_SHARED',
  CACHE_SHARING_PRIVATE: 'CACHE_SHARING_PRIVATE',
  CACHE_SHARING_LOCKED: 'CACHE_SHARING_LOCKED',
} as const;

export type CacheSharing =
  | 'CACHE_SHARING_UNSPECIFIED'
  | 0
  | 'CACHE_SHARING_SHARED'
  | 1
  | 'CACHE_SHARING_PRIVATE'
  | 2
  | 'CACHE_SHARING_LOCKED'
  | 3

export type CacheSharing__Output = typeof CacheSharing[keyof typeof CacheSharing]
