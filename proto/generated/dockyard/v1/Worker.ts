// Original file: proto/dockyard/v1/worker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CoordinatorMessage as _dockyard_v1_CoordinatorMessage, CoordinatorMessage__Output as _dockyard_v1_CoordinatorMessage__Output } from '../../dockyard/v1/CoordinatorMessage.js';
import type { RegisterRequest as _dockyard_v1_RegisterRequest, RegisterRequest__Output as _dockyard_v1_RegisterRequest__Output } from '../../dockyard/v1/RegisterRequest.js';
import type { RegisterResponse as _dockyard_v1_RegisterResponse, RegisterResponse__Output as _dockyard_v1_RegisterResponse__Output } from '../../dockyard/v1/RegisterResponse.js';
import type { WorkerMessage as _dockyard_v1_WorkerMessage, WorkerMessage__Output as _dockyard_v1_WorkerMessage__Output } from '../../dockyard/v1/WorkerMessage.js';

export interface WorkerClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_WorkerMessage, _dockyard_v1_CoordinatorMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_WorkerMessage, _dockyard_v1_CoordinatorMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_WorkerMessage, _dockyard_v1_CoordinatorMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_WorkerMessage, _dockyard_v1_CoordinatorMessage__Output>;
  
  Register(argument: _dockyard_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _dockyard_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _dockyard_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _dockyard_v1_RegisterRequest, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _dockyard_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _dockyard_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _dockyard_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _dockyard_v1_RegisterRequest, callback: grpc.requestCallback<_dockyard_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface WorkerHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_dockyard_v1_WorkerMessage__Output, _dockyard_v1_CoordinatorMessage>;
  
  Register: grpc.handleUnaryCall<_dockyard_v1_RegisterRequest__Output, _dockyard_v1_RegisterResponse>;
  
}

export interface WorkerDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_dockyard_v1_WorkerMessage, _dockyard_v1_CoordinatorMessage, _dockyard_v1_WorkerMessage__Output, _dockyard_v1_CoordinatorMessage__Output>
  Register: MethodDefinition<_dockyard_v1_RegisterRequest, _dockyard_v1_RegisterResponse, _dockyard_v1_RegisterRequest__Output, _dockyard_v1_RegisterResponse__Output>
}
