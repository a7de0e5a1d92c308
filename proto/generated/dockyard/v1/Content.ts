// Original file: proto/dockyard/v1/content.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DownloadRequest as _dockyard_v1_DownloadRequest, DownloadRequest__Output as _dockyard_v1_DownloadRequest__Output } from '../../dockyard/v1/DownloadRequest.js';
import type { DownloadResponse as _dockyard_v1_DownloadResponse, DownloadResponse__Output as _dockyard_v1_DownloadResponse__Output } from '../../dockyard/v1/DownloadResponse.js';
import type { FindMissingRequest as _dockyard_v1_FindMissingRequest, FindMissingRequest__Output as _dockyard_v1_FindMissingRequest__Output } from '../../dockyard/v1/FindMissingRequest.js';
import type { FindMissingResponse as _dockyard_v1_FindMissingResponse, FindMissingResponse__Output as _dockyard_v1_FindMissingResponse__Output } from '../../dockyard/v1/FindMissingResponse.js';
import type { GetBlobsRequest as _dockyard_v1_GetBlobsRequest, GetBlobsRequest__Output as _dockyard_v1_GetBlobsRequest__Output } from '../../dockyard/v1/GetBlobsRequest.js';
import type { GetBlobsResponse as _dockyard_v1_GetBlobsResponse, GetBlobsResponse__Output as _dockyard_v1_GetBlobsResponse__Output } from '../../dockyard/v1/GetBlobsResponse.js';
import type { PutBlobsRequest as _dockyard_v1_PutBlobsRequest, PutBlobsRequest__Output as _dockyard_v1_PutBlobsRequest__Output } from '../../dockyard/v1/PutBlobsRequest.js';
import type { PutBlobsResponse as _dockyard_v1_PutBlobsResponse, PutBlobsResponse__Output as _dockyard_v1_PutBlobsResponse__Output } from '../../dockyard/v1/PutBlobsResponse.js';
import type { StatRequest as _dockyard_v1_StatRequest, StatRequest__Output as _dockyard_v1_StatRequest__Output } from '../../dockyard/v1/StatRequest.js';
import type { StatResponse as _dockyard_v1_StatResponse, StatResponse__Output as _dockyard_v1_StatResponse__Output } from '../../dockyard/v1/StatResponse.js';
import type { UploadRequest as _dockyard_v1_UploadRequest, UploadRequest__Output as _dockyard_v1_UploadRequest__Output } from '../../dockyard/v1/UploadRequest.js';
import type { UploadResponse as _dockyard_v1_UploadResponse, UploadResponse__Output as _dockyard_v1_UploadResponse__Output } from '../../dockyard/v1/UploadResponse.js';

export interface ContentClient extends grpc.Client {
  Download(argument: _dockyard_v1_DownloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dockyard_v1_DownloadResponse__Output>;
  Download(argument: _dockyard_v1_DownloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dockyard_v1_DownloadResponse__Output>;
  download(argument: _dockyard_v1_DownloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dockyard_v1_DownloadResponse__Output>;
  download(argument: _dockyard_v1_DownloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dockyard_v1_DownloadResponse__Output>;
  
  FindMissing(argument: _dockyard_v1_FindMissingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  FindMissing(argument: _dockyard_v1_FindMissingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  FindMissing(argument: _dockyard_v1_FindMissingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  FindMissing(argument: _dockyard_v1_FindMissingRequest, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _dockyard_v1_FindMissingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _dockyard_v1_FindMissingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _dockyard_v1_FindMissingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _dockyard_v1_FindMissingRequest, callback: grpc.requestCallback<_dockyard_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  
  GetBlobs(argument: _dockyard_v1_GetBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  GetBlobs(argument: _dockyard_v1_GetBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  GetBlobs(argument: _dockyard_v1_GetBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  GetBlobs(argument: _dockyard_v1_GetBlobsRequest, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  getBlobs(argument: _dockyard_v1_GetBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  getBlobs(argument: _dockyard_v1_GetBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  getBlobs(argument: _dockyard_v1_GetBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  getBlobs(argument: _dockyard_v1_GetBlobsRequest, callback: grpc.requestCallback<_dockyard_v1_GetBlobsResponse__Output>): grpc.ClientUnaryCall;
  
  PutBlobs(argument: _dockyard_v1_PutBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  PutBlobs(argument: _dockyard_v1_PutBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  PutBlobs(argument: _dockyard_v1_PutBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  PutBlobs(argument: _dockyard_v1_PutBlobsRequest, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  putBlobs(argument: _dockyard_v1_PutBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  putBlobs(argument: _dockyard_v1_PutBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  putBlobs(argument: _dockyard_v1_PutBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  putBlobs(argument: _dockyard_v1_PutBlobsRequest, callback: grpc.requestCallback<_dockyard_v1_PutBlobsResponse__Output>): grpc.ClientUnaryCall;
  
  Stat(argument: _dockyard_v1_StatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  Stat(argument: _dockyard_v1_StatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  Stat(argument: _dockyard_v1_StatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  Stat(argument: _dockyard_v1_StatRequest, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  stat(argument: _dockyard_v1_StatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  stat(argument: _dockyard_v1_StatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  stat(argument: _dockyard_v1_StatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  stat(argument: _dockyard_v1_StatRequest, callback: grpc.requestCallback<_dockyard_v1_StatResponse__Output>): grpc.ClientUnaryCall;
  
  Upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  Upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  Upload(options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  Upload(callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  upload(options: grpc.CallOptions, callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  upload(callback: grpc.requestCallback<_dockyard_v1_UploadResponse__Output>): grpc.ClientWritableStream<_dockyard_v1_UploadRequest>;
  
}

export interface ContentHandlers extends grpc.UntypedServiceImplementation {
  Download: grpc.handleServerStreamingCall<_dockyard_v1_DownloadRequest__Output, _dockyard_v1_DownloadResponse>;
  
  FindMissing: grpc.handleUnaryCall<_dockyard_v1_FindMissingRequest__Output, _dockyard_v1_FindMissingResponse>;
  
  GetBlobs: grpc.handleUnaryCall<_dockyard_v1_GetBlobsRequest__Output, _dockyard_v1_GetBlobsResponse>;
  
  PutBlobs: grpc.handleUnaryCall<_dockyard_v1_PutBlobsRequest__Output, _dockyard_v1_PutBlobsResponse>;
  
  Stat: grpc.handleUnaryCall<_dockyard_v1_StatRequest__Output, _dockyard_v1_StatResponse>;
  
  Upload: grpc.handleClientStreamingCall<_dockyard_v1_UploadRequest__Output, _dockyard_v1_UploadResponse>;
  
}

export interface ContentDefinition extends grpc.ServiceDefinition {
  Download: MethodDefinition<_dockyard_v1_DownloadRequest, _dockyard_v1_DownloadResponse, _dockyard_v1_DownloadRequest__Output, _dockyard_v1_DownloadResponse__Output>
  FindMissing: MethodDefinition<_dockyard_v1_FindMissingRequest, _dockyard_v1_FindMissingResponse, _dockyard_v1_FindMissingRequest__Output, _dockyard_v1_FindMissingResponse__Output>
  GetBlobs: MethodDefinition<_dockyard_v1_GetBlobsRequest, _dockyard_v1_GetBlobsResponse, _dockyard_v1_GetBlobsRequest__Output, _dockyard_v1_GetBlobsResponse__Output>
  PutBlobs: MethodDefinition<_dockyard_v1_PutBlobsRequest, _dockyard_v1_PutBlobsResponse, _dockyard_v1_PutBlobsRequest__Output, _dockyard_v1_PutBlobsResponse__Output>
  Stat: MethodDefinition<_dockyard_v1_StatRequest, _dockyard_v1_StatResponse, _dockyard_v1_StatRequest__Output, _dockyard_v1_StatResponse__Output>
  Upload: MethodDefinition<_dockyard_v1_UploadRequest, _dockyard_v1_UploadResponse, _dockyard_v1_UploadRequest__Output, _dockyard_v1_UploadResponse__Output>
}
