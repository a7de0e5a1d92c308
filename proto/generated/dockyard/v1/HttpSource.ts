// Original file: proto/dockyard/v1/step.proto


export interface HttpSource {
  'url'?: (string);
  'checksum'?: (string);
  'digest'?: (string);
  '_checksum'?: "checksum";
  '_digest'?: "digest";
}

export interface HttpSource__Output {
  'url': (string);
  'checksum'?: (string);
  'digest'?: (string);
  '_checksum'?: "checksum";
  '_digest'?: "digest";
}
