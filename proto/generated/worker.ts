import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BindMount as _dockyard_v1_BindMount, BindMount__Output as _dockyard_v1_BindMount__Output } from './dockyard/v1/BindMount.js';
import type { CacheMount as _dockyard_v1_CacheMount, CacheMount__Output as _dockyard_v1_CacheMount__Output } from './dockyard/v1/CacheMount.js';
import type { CancelStep as _dockyard_v1_CancelStep, CancelStep__Output as _dockyard_v1_CancelStep__Output } from './dockyard/v1/CancelStep.js';
import type { ConnectHello as _dockyard_v1_ConnectHello, ConnectHello__Output as _dockyard_v1_ConnectHello__Output } from './dockyard/v1/ConnectHello.js';
import type { ContextSource as _dockyard_v1_ContextSource, ContextSource__Output as _dockyard_v1_ContextSource__Output } from './dockyard/v1/ContextSource.js';
import type { CoordinatorMessage as _dockyard_v1_CoordinatorMessage, CoordinatorMessage__Output as _dockyard_v1_CoordinatorMessage__Output } from './dockyard/v1/CoordinatorMessage.js';
import type { CopyAction as _dockyard_v1_CopyAction, CopyAction__Output as _dockyard_v1_CopyAction__Output } from './dockyard/v1/CopyAction.js';
import type { CopySource as _dockyard_v1_CopySource, CopySource__Output as _dockyard_v1_CopySource__Output } from './dockyard/v1/CopySource.js';
import type { ExecOp as _dockyard_v1_ExecOp, ExecOp__Output as _dockyard_v1_ExecOp__Output } from './dockyard/v1/ExecOp.js';
import type { Failure as _dockyard_v1_Failure, Failure__Output as _dockyard_v1_Failure__Output } from './dockyard/v1/Failure.js';
import type { FileEntry as _dockyard_v1_FileEntry, FileEntry__Output as _dockyard_v1_FileEntry__Output } from './dockyard/v1/FileEntry.js';
import type { FileOp as _dockyard_v1_FileOp, FileOp__Output as _dockyard_v1_FileOp__Output } from './dockyard/v1/FileOp.js';
import type { FileTree as _dockyard_v1_FileTree, FileTree__Output as _dockyard_v1_FileTree__Output } from './dockyard/v1/FileTree.js';
import type { GitSource as _dockyard_v1_GitSource, GitSource__Output as _dockyard_v1_GitSource__Output } from './dockyard/v1/GitSource.js';
import type { Heartbeat as _dockyard_v1_Heartbeat, Heartbeat__Output as _dockyard_v1_Heartbeat__Output } from './dockyard/v1/Heartbeat.js';
import type { HeartbeatAck as _dockyard_v1_HeartbeatAck, HeartbeatAck__Output as _dockyard_v1_HeartbeatAck__Output } from './dockyard/v1/HeartbeatAck.js';
import type { HttpSource as _dockyard_v1_HttpSource, HttpSource__Output as _dockyard_v1_HttpSource__Output } from './dockyard/v1/HttpSource.js';
import type { ImageSource as _dockyard_v1_ImageSource, ImageSource__Output as _dockyard_v1_ImageSource__Output } from './dockyard/v1/ImageSource.js';
import type { InlineFile as _dockyard_v1_InlineFile, InlineFile__Output as _dockyard_v1_InlineFile__Output } from './dockyard/v1/InlineFile.js';
import type { LayerChain as _dockyard_v1_LayerChain, LayerChain__Output as _dockyard_v1_LayerChain__Output } from './dockyard/v1/LayerChain.js';
import type { LayerDescriptor as _dockyard_v1_LayerDescriptor, LayerDescriptor__Output as _dockyard_v1_LayerDescriptor__Output } from './dockyard/v1/LayerDescriptor.js';
import type { LogLine as _dockyard_v1_LogLine, LogLine__Output as _dockyard_v1_LogLine__Output } from './dockyard/v1/LogLine.js';
import type { MergeOp as _dockyard_v1_MergeOp, MergeOp__Output as _dockyard_v1_MergeOp__Output } from './dockyard/v1/MergeOp.js';
import type { MkdirAction as _dockyard_v1_MkdirAction, MkdirAction__Output as _dockyard_v1_MkdirAction__Output } from './dockyard/v1/MkdirAction.js';
import type { Mount as _dockyard_v1_Mount, Mount__Output as _dockyard_v1_Mount__Output } from './dockyard/v1/Mount.js';
import type { RegisterRequest as _dockyard_v1_RegisterRequest, RegisterRequest__Output as _dockyard_v1_RegisterRequest__Output } from './dockyard/v1/RegisterRequest.js';
import type { RegisterResponse as _dockyard_v1_RegisterResponse, RegisterResponse__Output as _dockyard_v1_RegisterResponse__Output } from './dockyard/v1/RegisterResponse.js';
import type { SecretMount as _dockyard_v1_SecretMount, SecretMount__Output as _dockyard_v1_SecretMount__Output } from './dockyard/v1/SecretMount.js';
import type { SecretRequest as _dockyard_v1_SecretRequest, SecretRequest__Output as _dockyard_v1_SecretRequest__Output } from './dockyard/v1/SecretRequest.js';
import type { SecretValue as _dockyard_v1_SecretValue, SecretValue__Output as _dockyard_v1_SecretValue__Output } from './dockyard/v1/SecretValue.js';
import type { SourceOp as _dockyard_v1_SourceOp, SourceOp__Output as _dockyard_v1_SourceOp__Output } from './dockyard/v1/SourceOp.js';
import type { SshMount as _dockyard_v1_SshMount, SshMount__Output as _dockyard_v1_SshMount__Output } from './dockyard/v1/SshMount.js';
import type { Step as _dockyard_v1_Step, Step__Output as _dockyard_v1_Step__Output } from './dockyard/v1/Step.js';
import type { StepAssignment as _dockyard_v1_StepAssignment, StepAssignment__Output as _dockyard_v1_StepAssignment__Output } from './dockyard/v1/StepAssignment.js';
import type { StepEvent as _dockyard_v1_StepEvent, StepEvent__Output as _dockyard_v1_StepEvent__Output } from './dockyard/v1/StepEvent.js';
import type { StepInput as _dockyard_v1_StepInput, StepInput__Output as _dockyard_v1_StepInput__Output } from './dockyard/v1/StepInput.js';
import type { StepProgress as _dockyard_v1_StepProgress, StepProgress__Output as _dockyard_v1_StepProgress__Output } from './dockyard/v1/StepProgress.js';
import type { StepResult as _dockyard_v1_StepResult, StepResult__Output as _dockyard_v1_StepResult__Output } from './dockyard/v1/StepResult.js';
import type { TmpfsMount as _dockyard_v1_TmpfsMount, TmpfsMount__Output as _dockyard_v1_TmpfsMount__Output } from './dockyard/v1/TmpfsMount.js';
import type { WorkerClient as _dockyard_v1_WorkerClient, WorkerDefinition as _dockyard_v1_WorkerDefinition } from './dockyard/v1/Worker.js';
import type { WorkerMessage as _dockyard_v1_WorkerMessage, WorkerMessage__Output as _dockyard_v1_WorkerMessage__Output } from './dockyard/v1/WorkerMessage.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dockyard: {
    v1: {
      BindMount: MessageTypeDefinition<_dockyard_v1_BindMount, _dockyard_v1_BindMount__Output>
      CacheMount: MessageTypeDefinition<_dockyard_v1_CacheMount, _dockyard_v1_CacheMount__Output>
      CacheSharing: EnumTypeDefinition
      CancelStep: MessageTypeDefinition<_dockyard_v1_CancelStep, _dockyard_v1_CancelStep__Output>
      ConnectHello: MessageTypeDefinition<_dockyard_v1_ConnectHello, _dockyard_v1_ConnectHello__Output>
      ContextSource: MessageTypeDefinition<_dockyard_v1_ContextSource, _dockyard_v1_ContextSource__Output>
      CoordinatorMessage: MessageTypeDefinition<_dockyard_v1_CoordinatorMessage, _dockyard_v1_CoordinatorMessage__Output>
      CopyAction: MessageTypeDefinition<_dockyard_v1_CopyAction, _dockyard_v1_CopyAction__Output>
      CopySource: MessageTypeDefinition<_dockyard_v1_CopySource, _dockyard_v1_CopySource__Output>
      ExecOp: MessageTypeDefinition<_dockyard_v1_ExecOp, _dockyard_v1_ExecOp__Output>
      Failure: MessageTypeDefinition<_dockyard_v1_Failure, _dockyard_v1_Failure__Output>
      FileEntry: MessageTypeDefinition<_dockyard_v1_FileEntry, _dockyard_v1_FileEntry__Output>
      FileOp: MessageTypeDefinition<_dockyard_v1_FileOp, _dockyard_v1_FileOp__Output>
      FileTree: MessageTypeDefinition<_dockyard_v1_FileTree, _dockyard_v1_FileTree__Output>
      FileTreeOrigin: EnumTypeDefinition
      FileType: EnumTypeDefinition
      GitMtime: EnumTypeDefinition
      GitSource: MessageTypeDefinition<_dockyard_v1_GitSource, _dockyard_v1_GitSource__Output>
      Heartbeat: MessageTypeDefinition<_dockyard_v1_Heartbeat, _dockyard_v1_Heartbeat__Output>
      HeartbeatAck: MessageTypeDefinition<_dockyard_v1_HeartbeatAck, _dockyard_v1_HeartbeatAck__Output>
      HttpSource: MessageTypeDefinition<_dockyard_v1_HttpSource, _dockyard_v1_HttpSource__Output>
      ImageSource: MessageTypeDefinition<_dockyard_v1_ImageSource, _dockyard_v1_ImageSource__Output>
      InlineFile: MessageTypeDefinition<_dockyard_v1_InlineFile, _dockyard_v1_InlineFile__Output>
      LayerChain: MessageTypeDefinition<_dockyard_v1_LayerChain, _dockyard_v1_LayerChain__Output>
      LayerDescriptor: MessageTypeDefinition<_dockyard_v1_LayerDescriptor, _dockyard_v1_LayerDescriptor__Output>
      LogLine: MessageTypeDefinition<_dockyard_v1_LogLine, _dockyard_v1_LogLine__Output>
      MergeOp: MessageTypeDefinition<_dockyard_v1_MergeOp, _dockyard_v1_MergeOp__Output>
      MkdirAction: MessageTypeDefinition<_dockyard_v1_MkdirAction, _dockyard_v1_MkdirAction__Output>
      Mount: MessageTypeDefinition<_dockyard_v1_Mount, _dockyard_v1_Mount__Output>
      NetworkMode: EnumTypeDefinition
      RegisterRequest: MessageTypeDefinition<_dockyard_v1_RegisterRequest, _dockyard_v1_RegisterRequest__Output>
      RegisterResponse: MessageTypeDefinition<_dockyard_v1_RegisterResponse, _dockyard_v1_RegisterResponse__Output>
      SecretMount: MessageTypeDefinition<_dockyard_v1_SecretMount, _dockyard_v1_SecretMount__Output>
      SecretRequest: MessageTypeDefinition<_dockyard_v1_SecretRequest, _dockyard_v1_SecretRequest__Output>
      SecretValue: MessageTypeDefinition<_dockyard_v1_SecretValue, _dockyard_v1_SecretValue__Output>
      SecurityMode: EnumTypeDefinition
      SourceOp: MessageTypeDefinition<_dockyard_v1_SourceOp, _dockyard_v1_SourceOp__Output>
      SshMount: MessageTypeDefinition<_dockyard_v1_SshMount, _dockyard_v1_SshMount__Output>
      Step: MessageTypeDefinition<_dockyard_v1_Step, _dockyard_v1_Step__Output>
      StepAssignment: MessageTypeDefinition<_dockyard_v1_StepAssignment, _dockyard_v1_StepAssignment__Output>
      StepEvent: MessageTypeDefinition<_dockyard_v1_StepEvent, _dockyard_v1_StepEvent__Output>
      StepInput: MessageTypeDefinition<_dockyard_v1_StepInput, _dockyard_v1_StepInput__Output>
      StepProgress: MessageTypeDefinition<_dockyard_v1_StepProgress, _dockyard_v1_StepProgress__Output>
      StepResult: MessageTypeDefinition<_dockyard_v1_StepResult, _dockyard_v1_StepResult__Output>
      TmpfsMount: MessageTypeDefinition<_dockyard_v1_TmpfsMount, _dockyard_v1_TmpfsMount__Output>
      Worker: SubtypeConstructor<typeof grpc.Client, _dockyard_v1_WorkerClient> & { service: _dockyard_v1_WorkerDefinition }
      WorkerMessage: MessageTypeDefinition<_dockyard_v1_WorkerMessage, _dockyard_v1_WorkerMessage__Output>
    }
  }
}

