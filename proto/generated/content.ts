import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Blob as _dockyard_v1_Blob, Blob__Output as _dockyard_v1_Blob__Output } from './dockyard/v1/Blob.js';
import type { ContentClient as _dockyard_v1_ContentClient, ContentDefinition as _dockyard_v1_ContentDefinition } from './dockyard/v1/Content.js';
import type { DownloadRequest as _dockyard_v1_DownloadRequest, DownloadRequest__Output as _dockyard_v1_DownloadRequest__Output } from './dockyard/v1/DownloadRequest.js';
import type { DownloadResponse as _dockyard_v1_DownloadResponse, DownloadResponse__Output as _dockyard_v1_DownloadResponse__Output } from './dockyard/v1/DownloadResponse.js';
import type { FindMissingRequest as _dockyard_v1_FindMissingRequest, FindMissingRequest__Output as _dockyard_v1_FindMissingRequest__Output } from './dockyard/v1/FindMissingRequest.js';
import type { FindMissingResponse as _dockyard_v1_FindMissingResponse, FindMissingResponse__Output as _dockyard_v1_FindMissingResponse__Output } from './dockyard/v1/FindMissingResponse.js';
import type { GetBlobsRequest as _dockyard_v1_GetBlobsRequest, GetBlobsRequest__Output as _dockyard_v1_GetBlobsRequest__Output } from './dockyard/v1/GetBlobsRequest.js';
import type { GetBlobsResponse as _dockyard_v1_GetBlobsResponse, GetBlobsResponse__Output as _dockyard_v1_GetBlobsResponse__Output } from './dockyard/v1/GetBlobsResponse.js';
import type { PutBlobsRequest as _dockyard_v1_PutBlobsRequest, PutBlobsRequest__Output as _dockyard_v1_PutBlobsRequest__Output } from './dockyard/v1/PutBlobsRequest.js';
import type { PutBlobsResponse as _dockyard_v1_PutBlobsResponse, PutBlobsResponse__Output as _dockyard_v1_PutBlobsResponse__Output } from './dockyard/v1/PutBlobsResponse.js';
import type { StatRequest as _dockyard_v1_StatRequest, StatRequest__Output as _dockyard_v1_StatRequest__Output } from './dockyard/v1/StatRequest.js';
import type { StatResponse as _dockyard_v1_StatResponse, StatResponse__Output as _dockyard_v1_StatResponse__Output } from './dockyard/v1/StatResponse.js';
import type { UploadHeader as _dockyard_v1_UploadHeader, UploadHeader__Output as _dockyard_v1_UploadHeader__Output } from './dockyard/v1/UploadHeader.js';
import type { UploadRequest as _dockyard_v1_UploadRequest, UploadRequest__Output as _dockyard_v1_UploadRequest__Output } from './dockyard/v1/UploadRequest.js';
import type { UploadResponse as _dockyard_v1_UploadResponse, UploadResponse__Output as _dockyard_v1_UploadResponse__Output } from './dockyard/v1/UploadResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dockyard: {
    v1: {
      Blob: MessageTypeDefinition<_dockyard_v1_Blob, _dockyard_v1_Blob__Output>
      Content: SubtypeConstructor<typeof grpc.Client, _dockyard_v1_ContentClient> & { service: _dockyard_v1_ContentDefinition }
      DownloadRequest: MessageTypeDefinition<_dockyard_v1_DownloadRequest, _dockyard_v1_DownloadRequest__Output>
      DownloadResponse: MessageTypeDefinition<_dockyard_v1_DownloadResponse, _dockyard_v1_DownloadResponse__Output>
      FindMissingRequest: MessageTypeDefinition<_dockyard_v1_FindMissingRequest, _dockyard_v1_FindMissingRequest__Output>
      FindMissingResponse: MessageTypeDefinition<_dockyard_v1_FindMissingResponse, _dockyard_v1_FindMissingResponse__Output>
      GetBlobsRequest: MessageTypeDefinition<_dockyard_v1_GetBlobsRequest, _dockyard_v1_GetBlobsRequest__Output>
      GetBlobsResponse: MessageTypeDefinition<_dockyard_v1_GetBlobsResponse, _dockyard_v1_GetBlobsResponse__Output>
      PutBlobsRequest: MessageTypeDefinition<_dockyard_v1_PutBlobsRequest, _dockyard_v1_PutBlobsRequest__Output>
      PutBlobsResponse: MessageTypeDefinition<_dockyard_v1_PutBlobsResponse, _dockyard_v1_PutBlobsResponse__Output>
      StatRequest: MessageTypeDefinition<_dockyard_v1_StatRequest, _dockyard_v1_StatRequest__Output>
      StatResponse: MessageTypeDefinition<_dockyard_v1_StatResponse, _dockyard_v1_StatResponse__Output>
      UploadHeader: MessageTypeDefinition<_dockyard_v1_UploadHeader, _dockyard_v1_UploadHeader__Output>
      UploadRequest: MessageTypeDefinition<_dockyard_v1_UploadRequest, _dockyard_v1_UploadRequest__Output>
      UploadResponse: MessageTypeDefinition<_dockyard_v1_UploadResponse, _dockyard_v1_UploadResponse__Output>
    }
  }
}

