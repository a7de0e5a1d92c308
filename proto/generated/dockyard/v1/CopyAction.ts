// Original file: proto/dockyard/v1/step.proto

import type { CopySource as _dockyard_v1_CopySource, CopySource__Output as _dockyard_v1_CopySource__Output } from '../../dockyard/v1/CopySource.js';
import type { InlineFile as _dockyard_v1_InlineFile, InlineFile__Output as _dockyard_v1_InlineFile__Output } from '../../dockyard/v1/InlineFile.js';

export interface CopyAction {
  'dest'?: (number);
  'sources'?: (_dockyard_v1_CopySource)[];
  'inline'?: (_dockyard_v1_InlineFile)[];
  'destPath'?: (string);
  'chown'?: (string);
  'chmod'?: (string);
  'exclude'?: (string)[];
  'parents'?: (boolean);
  'unpack'?: (boolean);
  '_dest'?: "dest";
  '_chown'?: "chown";
  '_chmod'?: "chmod";
}

export interface CopyAction__Output {
  'dest'?: (number);
  'sources': (_dockyard_v1_CopySource__Output)[];
  'inline': (_dockyard_v1_InlineFile__Output)[];
  'destPath': (string);
  'chown'?: (string);
  'chmod'?: (string);
  'exclude': (string)[];
  'parents': (boolean);
  'unpack': (boolean);
  '_dest'?: "dest";
  '_chown'?: "chown";
  '_chmod'?: "chmod";
}
