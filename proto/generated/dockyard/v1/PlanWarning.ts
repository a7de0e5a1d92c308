// Original file: proto/dockyard/v1/build.proto


export interface PlanWarning {
  'message'?: (string);
  'line'?: (number);
  '_line'?: "line";
}

export interface PlanWarning__Output {
  'message': (string);
  'line'?: (number);
  '_line'?: "line";
}
