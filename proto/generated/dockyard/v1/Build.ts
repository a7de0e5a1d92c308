// Original file: proto/dockyard/v1/build.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BuildEvent as _dockyard_v1_BuildEvent, BuildEvent__Output as _dockyard_v1_BuildEvent__Output } from '../../dockyard/v1/BuildEvent.js';
import type { BuildInfo as _dockyard_v1_BuildInfo, BuildInfo__Output as _dockyard_v1_BuildInfo__Output } from '../../dockyard/v1/BuildInfo.js';
import type { CancelRequest as _dockyard_v1_CancelRequest, CancelRequest__Output as _dockyard_v1_CancelRequest__Output } from '../../dockyard/v1/CancelRequest.js';
import type { CancelResponse as _dockyard_v1_CancelResponse, CancelResponse__Output as _dockyard_v1_CancelResponse__Output } from '../../dockyard/v1/CancelResponse.js';
import type { ClientMessage as _dockyard_v1_ClientMessage, ClientMessage__Output as _dockyard_v1_ClientMessage__Output } from '../../dockyard/v1/ClientMessage.js';
import type { InspectRequest as _dockyard_v1_InspectRequest, InspectRequest__Output as _dockyard_v1_InspectRequest__Output } from '../../dockyard/v1/InspectRequest.js';
import type { ListQueueRequest as _dockyard_v1_ListQueueRequest, ListQueueRequest__Output as _dockyard_v1_ListQueueRequest__Output } from '../../dockyard/v1/ListQueueRequest.js';
import type { ListQueueResponse as _dockyard_v1_ListQueueResponse, ListQueueResponse__Output as _dockyard_v1_ListQueueResponse__Output } from '../../dockyard/v1/ListQueueResponse.js';
import type { RelaySecretRequest as _dockyard_v1_RelaySecretRequest, RelaySecretRequest__Output as _dockyard_v1_RelaySecretRequest__Output } from '../../dockyard/v1/RelaySecretRequest.js';
import type { RelaySecretResponse as _dockyard_v1_RelaySecretResponse, RelaySecretResponse__Output as _dockyard_v1_RelaySecretResponse__Output } from '../../dockyard/v1/RelaySecretResponse.js';
import type { SubmitRequest as _dockyard_v1_SubmitRequest, SubmitRequest__Output as _dockyard_v1_SubmitRequest__Output } from '../../dockyard/v1/SubmitRequest.js';
import type { SubmitResponse as _dockyard_v1_SubmitResponse, SubmitResponse__Output as _dockyard_v1_SubmitResponse__Output } from '../../dockyard/v1/SubmitResponse.js';

export interface BuildClient extends grpc.Client {
  Attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_ClientMessage, _dockyard_v1_BuildEvent__Output>;
  Attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_ClientMessage, _dockyard_v1_BuildEvent__Output>;
  attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_ClientMessage, _dockyard_v1_BuildEvent__Output>;
  attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dockyard_v1_ClientMessage, _dockyard_v1_BuildEvent__Output>;
  
  Cancel(argument: _dockyard_v1_CancelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _dockyard_v1_CancelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _dockyard_v1_CancelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _dockyard_v1_CancelRequest, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _dockyard_v1_CancelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _dockyard_v1_CancelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _dockyard_v1_CancelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  cancel(argument: _dockyard_v1_CancelRequest, callback: grpc.requestCallback<_dockyard_v1_CancelResponse__Output>): grpc.ClientUnaryCall;
  
  Inspect(argument: _dockyard_v1_InspectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _dockyard_v1_InspectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _dockyard_v1_InspectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _dockyard_v1_InspectRequest, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  inspect(argument: _dockyard_v1_InspectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  inspect(argument: _dockyard_v1_InspectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  inspect(argument: _dockyard_v1_InspectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  inspect(argument: _dockyard_v1_InspectRequest, callback: grpc.requestCallback<_dockyard_v1_BuildInfo__Output>): grpc.ClientUnaryCall;
  
  ListQueue(argument: _dockyard_v1_ListQueueRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  ListQueue(argument: _dockyard_v1_ListQueueRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  ListQueue(argument: _dockyard_v1_ListQueueRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  ListQueue(argument: _dockyard_v1_ListQueueRequest, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  listQueue(argument: _dockyard_v1_ListQueueRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  listQueue(argument: _dockyard_v1_ListQueueRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  listQueue(argument: _dockyard_v1_ListQueueRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  listQueue(argument: _dockyard_v1_ListQueueRequest, callback: grpc.requestCallback<_dockyard_v1_ListQueueResponse__Output>): grpc.ClientUnaryCall;
  
  RelaySecret(argument: _dockyard_v1_RelaySecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  RelaySecret(argument: _dockyard_v1_RelaySecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  RelaySecret(argument: _dockyard_v1_RelaySecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  RelaySecret(argument: _dockyard_v1_RelaySecretRequest, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  relaySecret(argument: _dockyard_v1_RelaySecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  relaySecret(argument: _dockyard_v1_RelaySecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  relaySecret(argument: _dockyard_v1_RelaySecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  relaySecret(argument: _dockyard_v1_RelaySecretRequest, callback: grpc.requestCallback<_dockyard_v1_RelaySecretResponse__Output>): grpc.ClientUnaryCall;
  
  Submit(argument: _dockyard_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _dockyard_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _dockyard_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  Submit(argument: _dockyard_v1_SubmitRequest, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dockyard_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dockyard_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dockyard_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  submit(argument: _dockyard_v1_SubmitRequest, callback: grpc.requestCallback<_dockyard_v1_SubmitResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface BuildHandlers extends grpc.UntypedServiceImplementation {
  Attach: grpc.handleBidiStreamingCall<_dockyard_v1_ClientMessage__Output, _dockyard_v1_BuildEvent>;
  
  Cancel: grpc.handleUnaryCall<_dockyard_v1_CancelRequest__Output, _dockyard_v1_CancelResponse>;
  
  Inspect: grpc.handleUnaryCall<_dockyard_v1_InspectRequest__Output, _dockyard_v1_BuildInfo>;
  
  ListQueue: grpc.handleUnaryCall<_dockyard_v1_ListQueueRequest__Output, _dockyard_v1_ListQueueResponse>;
  
  RelaySecret: grpc.handleUnaryCall<_dockyard_v1_RelaySecretRequest__Output, _dockyard_v1_RelaySecretResponse>;
  
  Submit: grpc.handleUnaryCall<_dockyard_v1_SubmitRequest__Output, _dockyard_v1_SubmitResponse>;
  
}

export interface BuildDefinition extends grpc.ServiceDefinition {
  Attach: MethodDefinition<_dockyard_v1_ClientMessage, _dockyard_v1_BuildEvent, _dockyard_v1_ClientMessage__Output, _dockyard_v1_BuildEvent__Output>
  Cancel: MethodDefinition<_dockyard_v1_CancelRequest, _dockyard_v1_CancelResponse, _dockyard_v1_CancelRequest__Output, _dockyard_v1_CancelResponse__Output>
  Inspect: MethodDefinition<_dockyard_v1_InspectRequest, _dockyard_v1_BuildInfo, _dockyard_v1_InspectRequest__Output, _dockyard_v1_BuildInfo__Output>
  ListQueue: MethodDefinition<_dockyard_v1_ListQueueRequest, _dockyard_v1_ListQueueResponse, _dockyard_v1_ListQueueRequest__Output, _dockyard_v1_ListQueueResponse__Output>
  RelaySecret: MethodDefinition<_dockyard_v1_RelaySecretRequest, _dockyard_v1_RelaySecretResponse, _dockyard_v1_RelaySecretRequest__Output, _dockyard_v1_RelaySecretResponse__Output>
  Submit: MethodDefinition<_dockyard_v1_SubmitRequest, _dockyard_v1_SubmitResponse, _dockyard_v1_SubmitRequest__Output, _dockyard_v1_SubmitResponse__Output>
}
