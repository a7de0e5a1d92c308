// Original file: proto/dockyard/v1/build.proto

import type { LocalContext as _dockyard_v1_LocalContext, LocalContext__Output as _dockyard_v1_LocalContext__Output } from '../../dockyard/v1/LocalContext.js';
import type { NamedContext as _dockyard_v1_NamedContext, NamedContext__Output as _dockyard_v1_NamedContext__Output } from '../../dockyard/v1/NamedContext.js';
import type { Output as _dockyard_v1_Output, Output__Output as _dockyard_v1_Output__Output } from '../../dockyard/v1/Output.js';

export interface BuildOptions {
  'dockerfileText'?: (string);
  'dockerfileName'?: (string);
  'context'?: (_dockyard_v1_LocalContext | null);
  'tags'?: (string)[];
  'buildArgs'?: ({[key: string]: string});
  'target'?: (string);
  'platforms'?: (string)[];
  'secretIds'?: (string)[];
  'labels'?: ({[key: string]: string});
  'namedContexts'?: (_dockyard_v1_NamedContext)[];
  'outputs'?: (_dockyard_v1_Output)[];
  'noCache'?: (boolean);
  'noCacheFilter'?: (string)[];
  'maxParallelism'?: (number);
  'dryRun'?: (boolean);
  'provenanceMode'?: (string);
  'provenanceBuilderId'?: (string);
  'sbom'?: (boolean);
  'dockerfilePath'?: (string);
  'signFormats'?: (string)[];
  'cacheFrom'?: (string)[];
  'cacheTo'?: (string)[];
  '_target'?: "target";
  '_maxParallelism'?: "maxParallelism";
}

export interface BuildOptions__Output {
  'dockerfileText': (string);
  'dockerfileName': (string);
  'context': (_dockyard_v1_LocalContext__Output | null);
  'tags': (string)[];
  'buildArgs': ({[key: string]: string});
  'target'?: (string);
  'platforms': (string)[];
  'secretIds': (string)[];
  'labels': ({[key: string]: string});
  'namedContexts': (_dockyard_v1_NamedContext__Output)[];
  'outputs': (_dockyard_v1_Output__Output)[];
  'noCache': (boolean);
  'noCacheFilter': (string)[];
  'maxParallelism'?: (number);
  'dryRun': (boolean);
  'provenanceMode': (string);
  'provenanceBuilderId': (string);
  'sbom': (boolean);
  'dockerfilePath': (string);
  'signFormats': (string)[];
  'cacheFrom': (string)[];
  'cacheTo': (string)[];
  '_target'?: "target";
  '_maxParallelism'?: "maxParallelism";
}
