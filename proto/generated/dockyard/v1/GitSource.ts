// Original file: proto/dockyard/v1/step.proto

import type { GitMtime as _dockyard_v1_GitMtime, GitMtime__Output as _dockyard_v1_GitMtime__Output } from '../../dockyard/v1/GitMtime.js';

export interface GitSource {
  'remote'?: (string);
  'ref'?: (string);
  'commit'?: (string);
  'subdir'?: (string);
  'keepGitDir'?: (boolean);
  'submodules'?: (boolean);
  'mtime'?: (_dockyard_v1_GitMtime);
  'checksum'?: (string);
  '_commit'?: "commit";
  '_checksum'?: "checksum";
}

export interface GitSource__Output {
  'remote': (string);
  'ref': (string);
  'commit'?: (string);
  'subdir': (string);
  'keepGitDir': (boolean);
  'submodules': (boolean);
  'mtime': (_dockyard_v1_GitMtime__Output);
  'checksum'?: (string);
  '_commit'?: "commit";
  '_checksum'?: "checksum";
}
