import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttachBuild as _dockyard_v1_AttachBuild, AttachBuild__Output as _dockyard_v1_AttachBuild__Output } from './dockyard/v1/AttachBuild.js';
import type { BuildClient as _dockyard_v1_BuildClient, BuildDefinition as _dockyard_v1_BuildDefinition } from './dockyard/v1/Build.js';
import type { BuildEnd as _dockyard_v1_BuildEnd, BuildEnd__Output as _dockyard_v1_BuildEnd__Output } from './dockyard/v1/BuildEnd.js';
import type { BuildEvent as _dockyard_v1_BuildEvent, BuildEvent__Output as _dockyard_v1_BuildEvent__Output } from './dockyard/v1/BuildEvent.js';
import type { BuildFailure as _dockyard_v1_BuildFailure, BuildFailure__Output as _dockyard_v1_BuildFailure__Output } from './dockyard/v1/BuildFailure.js';
import type { BuildInfo as _dockyard_v1_BuildInfo, BuildInfo__Output as _dockyard_v1_BuildInfo__Output } from './dockyard/v1/BuildInfo.js';
import type { BuildOptions as _dockyard_v1_BuildOptions, BuildOptions__Output as _dockyard_v1_BuildOptions__Output } from './dockyard/v1/BuildOptions.js';
import type { BuildResult as _dockyard_v1_BuildResult, BuildResult__Output as _dockyard_v1_BuildResult__Output } from './dockyard/v1/BuildResult.js';
import type { BuildSecretRequest as _dockyard_v1_BuildSecretRequest, BuildSecretRequest__Output as _dockyard_v1_BuildSecretRequest__Output } from './dockyard/v1/BuildSecretRequest.js';
import type { BuildSummary as _dockyard_v1_BuildSummary, BuildSummary__Output as _dockyard_v1_BuildSummary__Output } from './dockyard/v1/BuildSummary.js';
import type { CacheMiss as _dockyard_v1_CacheMiss, CacheMiss__Output as _dockyard_v1_CacheMiss__Output } from './dockyard/v1/CacheMiss.js';
import type { CancelRequest as _dockyard_v1_CancelRequest, CancelRequest__Output as _dockyard_v1_CancelRequest__Output } from './dockyard/v1/CancelRequest.js';
import type { CancelResponse as _dockyard_v1_CancelResponse, CancelResponse__Output as _dockyard_v1_CancelResponse__Output } from './dockyard/v1/CancelResponse.js';
import type { ClientMessage as _dockyard_v1_ClientMessage, ClientMessage__Output as _dockyard_v1_ClientMessage__Output } from './dockyard/v1/ClientMessage.js';
import type { ClientSecretValue as _dockyard_v1_ClientSecretValue, ClientSecretValue__Output as _dockyard_v1_ClientSecretValue__Output } from './dockyard/v1/ClientSecretValue.js';
import type { Descriptor as _dockyard_v1_Descriptor, Descriptor__Output as _dockyard_v1_Descriptor__Output } from './dockyard/v1/Descriptor.js';
import type { DockerOutput as _dockyard_v1_DockerOutput, DockerOutput__Output as _dockyard_v1_DockerOutput__Output } from './dockyard/v1/DockerOutput.js';
import type { Failure as _dockyard_v1_Failure, Failure__Output as _dockyard_v1_Failure__Output } from './dockyard/v1/Failure.js';
import type { FileEntry as _dockyard_v1_FileEntry, FileEntry__Output as _dockyard_v1_FileEntry__Output } from './dockyard/v1/FileEntry.js';
import type { FileTree as _dockyard_v1_FileTree, FileTree__Output as _dockyard_v1_FileTree__Output } from './dockyard/v1/FileTree.js';
import type { ImageOutput as _dockyard_v1_ImageOutput, ImageOutput__Output as _dockyard_v1_ImageOutput__Output } from './dockyard/v1/ImageOutput.js';
import type { ImageResult as _dockyard_v1_ImageResult, ImageResult__Output as _dockyard_v1_ImageResult__Output } from './dockyard/v1/ImageResult.js';
import type { InspectRequest as _dockyard_v1_InspectRequest, InspectRequest__Output as _dockyard_v1_InspectRequest__Output } from './dockyard/v1/InspectRequest.js';
import type { LayerChain as _dockyard_v1_LayerChain, LayerChain__Output as _dockyard_v1_LayerChain__Output } from './dockyard/v1/LayerChain.js';
import type { LayerDescriptor as _dockyard_v1_LayerDescriptor, LayerDescriptor__Output as _dockyard_v1_LayerDescriptor__Output } from './dockyard/v1/LayerDescriptor.js';
import type { ListQueueRequest as _dockyard_v1_ListQueueRequest, ListQueueRequest__Output as _dockyard_v1_ListQueueRequest__Output } from './dockyard/v1/ListQueueRequest.js';
import type { ListQueueResponse as _dockyard_v1_ListQueueResponse, ListQueueResponse__Output as _dockyard_v1_ListQueueResponse__Output } from './dockyard/v1/ListQueueResponse.js';
import type { LocalContext as _dockyard_v1_LocalContext, LocalContext__Output as _dockyard_v1_LocalContext__Output } from './dockyard/v1/LocalContext.js';
import type { LocalOutput as _dockyard_v1_LocalOutput, LocalOutput__Output as _dockyard_v1_LocalOutput__Output } from './dockyard/v1/LocalOutput.js';
import type { NamedContext as _dockyard_v1_NamedContext, NamedContext__Output as _dockyard_v1_NamedContext__Output } from './dockyard/v1/NamedContext.js';
import type { OciLayoutContext as _dockyard_v1_OciLayoutContext, OciLayoutContext__Output as _dockyard_v1_OciLayoutContext__Output } from './dockyard/v1/OciLayoutContext.js';
import type { OciOutput as _dockyard_v1_OciOutput, OciOutput__Output as _dockyard_v1_OciOutput__Output } from './dockyard/v1/OciOutput.js';
import type { Output as _dockyard_v1_Output, Output__Output as _dockyard_v1_Output__Output } from './dockyard/v1/Output.js';
import type { OutputChunk as _dockyard_v1_OutputChunk, OutputChunk__Output as _dockyard_v1_OutputChunk__Output } from './dockyard/v1/OutputChunk.js';
import type { PlanWarning as _dockyard_v1_PlanWarning, PlanWarning__Output as _dockyard_v1_PlanWarning__Output } from './dockyard/v1/PlanWarning.js';
import type { ProgressEvent as _dockyard_v1_ProgressEvent, ProgressEvent__Output as _dockyard_v1_ProgressEvent__Output } from './dockyard/v1/ProgressEvent.js';
import type { QueuePosition as _dockyard_v1_QueuePosition, QueuePosition__Output as _dockyard_v1_QueuePosition__Output } from './dockyard/v1/QueuePosition.js';
import type { RelaySecretRequest as _dockyard_v1_RelaySecretRequest, RelaySecretRequest__Output as _dockyard_v1_RelaySecretRequest__Output } from './dockyard/v1/RelaySecretRequest.js';
import type { RelaySecretResponse as _dockyard_v1_RelaySecretResponse, RelaySecretResponse__Output as _dockyard_v1_RelaySecretResponse__Output } from './dockyard/v1/RelaySecretResponse.js';
import type { SubmitRequest as _dockyard_v1_SubmitRequest, SubmitRequest__Output as _dockyard_v1_SubmitRequest__Output } from './dockyard/v1/SubmitRequest.js';
import type { SubmitResponse as _dockyard_v1_SubmitResponse, SubmitResponse__Output as _dockyard_v1_SubmitResponse__Output } from './dockyard/v1/SubmitResponse.js';
import type { TarOutput as _dockyard_v1_TarOutput, TarOutput__Output as _dockyard_v1_TarOutput__Output } from './dockyard/v1/TarOutput.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dockyard: {
    v1: {
      AttachBuild: MessageTypeDefinition<_dockyard_v1_AttachBuild, _dockyard_v1_AttachBuild__Output>
      Build: SubtypeConstructor<typeof grpc.Client, _dockyard_v1_BuildClient> & { service: _dockyard_v1_BuildDefinition }
      BuildEnd: MessageTypeDefinition<_dockyard_v1_BuildEnd, _dockyard_v1_BuildEnd__Output>
      BuildEvent: MessageTypeDefinition<_dockyard_v1_BuildEvent, _dockyard_v1_BuildEvent__Output>
      BuildFailure: MessageTypeDefinition<_dockyard_v1_BuildFailure, _dockyard_v1_BuildFailure__Output>
      BuildInfo: MessageTypeDefinition<_dockyard_v1_BuildInfo, _dockyard_v1_BuildInfo__Output>
      BuildOptions: MessageTypeDefinition<_dockyard_v1_BuildOptions, _dockyard_v1_BuildOptions__Output>
      BuildResult: MessageTypeDefinition<_dockyard_v1_BuildResult, _dockyard_v1_BuildResult__Output>
      BuildSecretRequest: MessageTypeDefinition<_dockyard_v1_BuildSecretRequest, _dockyard_v1_BuildSecretRequest__Output>
      BuildState: EnumTypeDefinition
      BuildSummary: MessageTypeDefinition<_dockyard_v1_BuildSummary, _dockyard_v1_BuildSummary__Output>
      CacheMiss: MessageTypeDefinition<_dockyard_v1_CacheMiss, _dockyard_v1_CacheMiss__Output>
      CancelRequest: MessageTypeDefinition<_dockyard_v1_CancelRequest, _dockyard_v1_CancelRequest__Output>
      CancelResponse: MessageTypeDefinition<_dockyard_v1_CancelResponse, _dockyard_v1_CancelResponse__Output>
      ClientMessage: MessageTypeDefinition<_dockyard_v1_ClientMessage, _dockyard_v1_ClientMessage__Output>
      ClientSecretValue: MessageTypeDefinition<_dockyard_v1_ClientSecretValue, _dockyard_v1_ClientSecretValue__Output>
      Descriptor: MessageTypeDefinition<_dockyard_v1_Descriptor, _dockyard_v1_Descriptor__Output>
      DockerOutput: MessageTypeDefinition<_dockyard_v1_DockerOutput, _dockyard_v1_DockerOutput__Output>
      Failure: MessageTypeDefinition<_dockyard_v1_Failure, _dockyard_v1_Failure__Output>
      FailureKind: EnumTypeDefinition
      FileEntry: MessageTypeDefinition<_dockyard_v1_FileEntry, _dockyard_v1_FileEntry__Output>
      FileTree: MessageTypeDefinition<_dockyard_v1_FileTree, _dockyard_v1_FileTree__Output>
      FileTreeOrigin: EnumTypeDefinition
      FileType: EnumTypeDefinition
      ImageOutput: MessageTypeDefinition<_dockyard_v1_ImageOutput, _dockyard_v1_ImageOutput__Output>
      ImageResult: MessageTypeDefinition<_dockyard_v1_ImageResult, _dockyard_v1_ImageResult__Output>
      InspectRequest: MessageTypeDefinition<_dockyard_v1_InspectRequest, _dockyard_v1_InspectRequest__Output>
      LayerChain: MessageTypeDefinition<_dockyard_v1_LayerChain, _dockyard_v1_LayerChain__Output>
      LayerDescriptor: MessageTypeDefinition<_dockyard_v1_LayerDescriptor, _dockyard_v1_LayerDescriptor__Output>
      ListQueueRequest: MessageTypeDefinition<_dockyard_v1_ListQueueRequest, _dockyard_v1_ListQueueRequest__Output>
      ListQueueResponse: MessageTypeDefinition<_dockyard_v1_ListQueueResponse, _dockyard_v1_ListQueueResponse__Output>
      LocalContext: MessageTypeDefinition<_dockyard_v1_LocalContext, _dockyard_v1_LocalContext__Output>
      LocalOutput: MessageTypeDefinition<_dockyard_v1_LocalOutput, _dockyard_v1_LocalOutput__Output>
      NamedContext: MessageTypeDefinition<_dockyard_v1_NamedContext, _dockyard_v1_NamedContext__Output>
      OciLayoutContext: MessageTypeDefinition<_dockyard_v1_OciLayoutContext, _dockyard_v1_OciLayoutContext__Output>
      OciOutput: MessageTypeDefinition<_dockyard_v1_OciOutput, _dockyard_v1_OciOutput__Output>
      Output: MessageTypeDefinition<_dockyard_v1_Output, _dockyard_v1_Output__Output>
      OutputChunk: MessageTypeDefinition<_dockyard_v1_OutputChunk, _dockyard_v1_OutputChunk__Output>
      PlanWarning: MessageTypeDefinition<_dockyard_v1_PlanWarning, _dockyard_v1_PlanWarning__Output>
      ProgressEvent: MessageTypeDefinition<_dockyard_v1_ProgressEvent, _dockyard_v1_ProgressEvent__Output>
      QueuePosition: MessageTypeDefinition<_dockyard_v1_QueuePosition, _dockyard_v1_QueuePosition__Output>
      RelaySecretRequest: MessageTypeDefinition<_dockyard_v1_RelaySecretRequest, _dockyard_v1_RelaySecretRequest__Output>
      RelaySecretResponse: MessageTypeDefinition<_dockyard_v1_RelaySecretResponse, _dockyard_v1_RelaySecretResponse__Output>
      SubmitRequest: MessageTypeDefinition<_dockyard_v1_SubmitRequest, _dockyard_v1_SubmitRequest__Output>
      SubmitResponse: MessageTypeDefinition<_dockyard_v1_SubmitResponse, _dockyard_v1_SubmitResponse__Output>
      TarOutput: MessageTypeDefinition<_dockyard_v1_TarOutput, _dockyard_v1_TarOutput__Output>
    }
  }
}

