// Original file: proto/dockyard/v1/worker.proto


export interface RegisterRequest {
  'workerId'?: (string);
  'nativePlatforms'?: (string)[];
  'emulatedPlatforms'?: (string)[];
  'slots'?: (number);
  'labels'?: ({[key: string]: string});
  'version'?: (string);
}

export interface RegisterRequest__Output {
  'workerId': (string);
  'nativePlatforms': (string)[];
  'emulatedPlatforms': (string)[];
  'slots': (number);
  'labels': ({[key: string]: string});
  'version': (string);
}
