// Original file: proto/dockyard/v1/step.proto

export const NetworkMode = {
  NETWORK_MODE_UNSPECIFIED: 'NETWORK_MODE_UNSPECIFIED',
  NETWORK_MODE_DEFAULT: 'NETWORK_MODE_DEFAULT',
  NETWORK_MODE_NONE: 'NETWORK_MODE_NONE',
  NETWORK_MODE_HOST: 'NETWORK_MODE_HOST',
} as const;

export type NetworkMode =
  | 'NETWORK_MODE_UNSPECIFIED'
  | 0
  | 'NETWORK_MODE_DEFAULT'
  | 1
  | 'NETWORK_MODE_NONE'
  | 2
  | 'NETWORK_MODE_HOST'
  | 3

export type NetworkMode__Output = typeof NetworkMode[keyof typeof NetworkMode]
