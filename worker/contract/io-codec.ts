import type { LayerRecord } from '../../cache/cache-index.js';
import type { FileEntry, FileEntry__Output } from '../../proto/generated/dockyard/v1/FileEntry.js';
import type { LayerDescriptor, LayerDescriptor__Output } from '../../proto/generated/dockyard/v1/LayerDescriptor.js';
import type { StepInput, StepInput__Output } from '../../proto/generated/dockyard/v1/StepInput.js';
import type { StepResult, StepResult__Output } from '../../proto/generated/dockyard/v1/StepResult.js';
import { ContractError, digestField, EnumCodec, required } from './contract-error.js';
import type { RemoteStepInput, SettledStepOutput, TreeEntry } from './step-io.js';

/** Layer records, step inputs and step results and their `dockyard.v1` messages, both ways (see step-codec.ts). */

const fileType = new EnumCodec('file entry type', { file: 'FILE_TYPE_FILE', dir: 'FILE_TYPE_DIR', symlink: 'FILE_TYPE_SYMLINK' } as const);
const origin = new EnumCodec('file tree origin', { context: 'FILE_TREE_ORIGIN_CONTEXT', git: 'FILE_TREE_ORIGIN_GIT', url: 'FILE_TREE_ORIGIN_URL' } as const);

export const encodeLayer = (l: LayerRecord): LayerDescriptor => ({ digest: l.digest, diffId: l.diffID, size: l.size, mediaType: l.mediaType, gzipOnExport: l.gzipOnExport === true });

export function decodeLayer(w: LayerDescriptor__Output): LayerRecord {
  return { digest: digestField(w.digest, 'layer.digest'), diffID: digestField(w.diffId, 'layer.diffId'), size: w.size, mediaType: w.mediaType, ...(w.gzipOnExport ? { gzipOnExport: true as const } : {}) };
}

function encodeEntry(e: TreeEntry): FileEntry {
  return {
    path: e.path,
    type: fileType.encode(e.type),
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    ...(e.digest !== undefined ? { digest: e.digest } : {}),
    ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
  };
}

function decodeEntry(w: FileEntry__Output): TreeEntry {
  const type = fileType.decode(w.type);
  if (type === 'file' && w.digest === undefined) throw new ContractError(`file entry ${w.path} has no content digest`);
  if (type === 'symlink' && w.linkTarget === undefined) throw new ContractError(`file entry ${w.path} is a symlink without a target`);
  return {
    path: w.path,
    type,
    mode: w.mode,
    uid: w.uid,
    gid: w.gid,
    size: w.size,
    ...(w.digest !== undefined ? { digest: digestField(w.digest, `file entry ${w.path} digest`) } : {}),
    ...(w.linkTarget !== undefined ? { linkTarget: w.linkTarget } : {}),
  };
}

export function encodeStepInput(input: RemoteStepInput): StepInput {
  switch (input.type) {
    case 'rootfs':
      return { rootfs: { layers: input.layers.map(encodeLayer) } };
    case 'files':
      return { files: { origin: origin.encode(input.origin), checksum: input.checksum, entries: input.entries.map(encodeEntry) } };
  }
}

export function decodeStepInput(w: StepInput__Output): RemoteStepInput {
  switch (w.input) {
    case 'rootfs':
      return { type: 'rootfs', layers: required(w.rootfs, 'input.rootfs').layers.map(decodeLayer) };
    case 'files': {
      const t = required(w.files, 'input.files');
      return { type: 'files', origin: origin.decode(t.origin), checksum: digestField(t.checksum, 'input.files.checksum'), entries: t.entries.map(decodeEntry) };
    }
    default:
      throw new ContractError('step input has no kind (rootfs or files)');
  }
}

export const encodeStepResult = (out: SettledStepOutput): StepResult => ({ layers: out.layers.map(encodeLayer), emptyLayer: out.emptyLayer });

export const decodeStepResult = (w: StepResult__Output): SettledStepOutput => ({ layers: w.layers.map(decodeLayer), emptyLayer: w.emptyLayer });
