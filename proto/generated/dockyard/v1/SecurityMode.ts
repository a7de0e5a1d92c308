// Original file: proto/dockyard/v1/step.proto

export const SecurityMode = {
  SECURITY_MODE_UNSPECIFIED: 'SECURITY_MODE_UNSPECIFIED',
  SECURITY_MODE_SANDBOX: 'SECURITY_MODE_SANDBOX',
  SECURITY_MODE_INSECURE: 'SECURITY_MODE_INSECURE',
} as const;

export type SecurityMode =
  | 'SECURITY_MODE_UNSPECIFIED'
  | 0
  | 'SECURITY_MODE_SANDBOX'
  | 1
  | 'SECURITY_MODE_INSECURE'
  | 2

export type SecurityMode__Output = typeof SecurityMode[keyof typeof SecurityMode]
