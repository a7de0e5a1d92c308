// Original file: proto/dockyard/v1/build.proto


export interface OciLayoutContext {
  'indexDigest'?: (string);
  'tag'?: (string);
  'digest'?: (string);
  '_tag'?: "tag";
  '_digest'?: "digest";
}

export interface OciLayoutContext__Output {
  'indexDigest': (string);
  'tag'?: (string);
  'digest'?: (string);
  '_tag'?: "tag";
  '_digest'?: "digest";
}
