import type { CopySource as WireCopySource, CopySource__Output } from '../../proto/generated/dockyard/v1/CopySource.js';
import type { ExecOp, ExecOp__Output } from '../../proto/generated/dockyard/v1/ExecOp.js';
import type { FileOp, FileOp__Output } from '../../proto/generated/dockyard/v1/FileOp.js';
import type { GitSource, GitSource__Output } from '../../proto/generated/dockyard/v1/GitSource.js';
import type { Mount, Mount__Output } from '../../proto/generated/dockyard/v1/Mount.js';
import type { SourceOp, SourceOp__Output } from '../../proto/generated/dockyard/v1/SourceOp.js';
import type { Step as WireStep, Step__Output } from '../../proto/generated/dockyard/v1/Step.js';
import type { CopySource, ExecDefinition, ExecMount, FileDefinition, GitSourceDefinition, SourceDefinition, Step } from '../step.js';
import { ContractError, digestField, EnumCodec, required } from './contract-error.js';

/**
 * worker/step.ts's Step and the `dockyard.v1.Step` message, both ways. Encoding is total; decoding
 * checks what the types cannot (oneofs set, enums known, digests well formed) and throws a
 * ContractError naming the field. decode(encode(s)) equals s, absent optional fields included, so
 * the decoded step's key recomputes to the same digest.
 */

const network = new EnumCodec('exec.network', { default: 'NETWORK_MODE_DEFAULT', none: 'NETWORK_MODE_NONE', host: 'NETWORK_MODE_HOST' } as const);
const security = new EnumCodec('exec.security', { sandbox: 'SECURITY_MODE_SANDBOX', insecure: 'SECURITY_MODE_INSECURE' } as const);
const sharing = new EnumCodec('cache mount sharing', { shared: 'CACHE_SHARING_SHARED', private: 'CACHE_SHARING_PRIVATE', locked: 'CACHE_SHARING_LOCKED' } as const);
const gitMtime = new EnumCodec('git.mtime', { checkout: 'GIT_MTIME_CHECKOUT', commit: 'GIT_MTIME_COMMIT' } as const);

/** `optional` proto fields: absent on the wire exactly when absent (or undefined) here. */
const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));

/** An input index that may be null (an empty filesystem): null travels as an absent field. */
const indexOut = (i: number | null): number | undefined => (i === null ? undefined : i);
const indexIn = (i: number | undefined): number | null => (i === undefined ? null : i);

export function encodeStep(step: Step): WireStep {
  const base = { key: step.key, platform: step.platform, inputs: step.inputs };
  switch (step.kind) {
    case 'source':
      return { ...base, source: encodeSource(step.source) };
    case 'exec':
      return { ...base, exec: encodeExec(step.exec) };
    case 'file':
      return { ...base, file: encodeFile(step.file) };
    case 'merge':
      return { ...base, merge: {} };
  }
}

export function decodeStep(wire: Step__Output): Step {
  const base = { key: digestField(wire.key, 'step.key'), platform: wire.platform, inputs: wire.inputs.map((k, i) => digestField(k, `step.inputs[${i}]`)) };
  switch (wire.op) {
    case 'source':
      return { ...base, kind: 'source', source: decodeSource(required(wire.source, 'step.source')) };
    case 'exec':
      return { ...base, kind: 'exec', exec: decodeExec(required(wire.exec, 'step.exec')) };
    case 'file':
      return { ...base, kind: 'file', file: decodeFile(required(wire.file, 'step.file')) };
    case 'merge':
      return { ...base, kind: 'merge' };
    default:
      throw new ContractError(`step ${wire.key} has no op (source, exec, file or merge)`);
  }
}

function encodeSource(s: SourceDefinition): SourceOp {
  switch (s.type) {
    case 'image':
      return { image: { ref: s.ref, ...opt('digest', s.digest) } };
    case 'context':
      return { context: { name: s.name, include: s.include, exclude: s.exclude, checksum: s.checksum } };
    case 'http':
      return { http: { url: s.url, ...opt('checksum', s.checksum), ...opt('digest', s.digest) } };
    case 'git':
      return { git: encodeGit(s) };
  }
}

function decodeSource(w: SourceOp__Output): SourceDefinition {
  switch (w.source) {
    case 'image': {
      const s = required(w.image, 'source.image');
      return { type: 'image', ref: s.ref, ...opt('digest', s.digest === undefined ? undefined : digestField(s.digest, 'source.image.digest')) };
    }
    case 'context': {
      const s = required(w.context, 'source.context');
      return { type: 'context', name: s.name, include: s.include, exclude: s.exclude, checksum: digestField(s.checksum, 'source.context.checksum') };
    }
    case 'http': {
      const s = required(w.http, 'source.http');
      return { type: 'http', url: s.url, ...opt('checksum', s.checksum), ...opt('digest', s.digest === undefined ? undefined : digestField(s.digest, 'source.http.digest')) };
    }
    case 'git':
      return decodeGit(required(w.git, 'source.git'));
    default:
      throw new ContractError('source has no kind (image, context, http or git)');
  }
}

function encodeGit(s: GitSourceDefinition): GitSource {
  return {
    remote: s.remote,
    ref: s.ref,
    ...opt('commit', s.commit),
    subdir: s.subdir,
    keepGitDir: s.keepGitDir,
    submodules: s.submodules,
    mtime: gitMtime.encode(s.mtime),
    ...opt('checksum', s.checksum),
  };
}

function decodeGit(w: GitSource__Output): GitSourceDefinition {
  return {
    type: 'git',
    remote: w.remote,
    ref: w.ref,
    ...opt('commit', w.commit),
    subdir: w.subdir,
    keepGitDir: w.keepGitDir,
    submodules: w.submodules,
    mtime: gitMtime.decode(w.mtime),
    ...opt('checksum', w.checksum),
  };
}

function encodeExec(e: ExecDefinition): ExecOp {
  return {
    args: e.args,
    env: e.env,
    cwd: e.cwd,
    user: e.user,
    network: network.encode(e.network),
    security: security.encode(e.security),
    ...opt('rootfs', indexOut(e.rootfs)),
    mounts: e.mounts.map(encodeMount),
  };
}

function decodeExec(w: ExecOp__Output): ExecDefinition {
  return {
    args: w.args,
    env: w.env,
    cwd: w.cwd,
    user: w.user,
    network: network.decode(w.network),
    security: security.decode(w.security),
    rootfs: indexIn(w.rootfs),
    mounts: w.mounts.map(decodeMount),
  };
}

function encodeMount(m: ExecMount): Mount {
  switch (m.type) {
    case 'bind':
      return { bind: { target: m.target, ...opt('input', indexOut(m.input)), source: m.source, readonly: m.readonly } };
    case 'cache':
      return {
        cache: { target: m.target, id: m.id, sharing: sharing.encode(m.sharing), readonly: m.readonly, mode: m.mode, uid: m.uid, gid: m.gid, ...opt('input', m.input), ...opt('source', m.source) },
      };
    case 'tmpfs':
      return { tmpfs: { target: m.target, ...opt('size', m.size) } };
    case 'secret':
      return { secret: { id: m.id, ...opt('target', m.target), ...opt('env', m.env), required: m.required, mode: m.mode, uid: m.uid, gid: m.gid } };
    case 'ssh':
      return { ssh: { id: m.id, target: m.target, required: m.required, mode: m.mode, uid: m.uid, gid: m.gid } };
  }
}

function decodeMount(w: Mount__Output): ExecMount {
  switch (w.mount) {
    case 'bind': {
      const m = required(w.bind, 'mount.bind');
      return { type: 'bind', target: m.target, input: indexIn(m.input), source: m.source, readonly: m.readonly };
    }
    case 'cache': {
      const m = required(w.cache, 'mount.cache');
      return { type: 'cache', target: m.target, id: m.id, sharing: sharing.decode(m.sharing), readonly: m.readonly, mode: m.mode, uid: m.uid, gid: m.gid, ...opt('input', m.input), ...opt('source', m.source) };
    }
    case 'tmpfs': {
      const m = required(w.tmpfs, 'mount.tmpfs');
      return { type: 'tmpfs', target: m.target, ...opt('size', m.size) };
    }
    case 'secret': {
      const m = required(w.secret, 'mount.secret');
      return { type: 'secret', id: m.id, ...opt('target', m.target), ...opt('env', m.env), required: m.required, mode: m.mode, uid: m.uid, gid: m.gid };
    }
    case 'ssh': {
      const m = required(w.ssh, 'mount.ssh');
      return { type: 'ssh', id: m.id, target: m.target, required: m.required, mode: m.mode, uid: m.uid, gid: m.gid };
    }
    default:
      throw new ContractError('mount has no type (bind, cache, tmpfs, secret or ssh)');
  }
}

const encodeCopySource = (s: CopySource): WireCopySource => ({ ...opt('input', indexOut(s.input)), paths: s.paths });
const decodeCopySource = (w: CopySource__Output): CopySource => ({ input: indexIn(w.input), paths: w.paths });

function encodeFile(f: FileDefinition): FileOp {
  switch (f.action) {
    case 'copy':
      return {
        copy: {
          ...opt('dest', indexOut(f.dest)),
          sources: f.sources.map(encodeCopySource),
          inline: f.inline,
          destPath: f.destPath,
          ...opt('chown', f.chown),
          ...opt('chmod', f.chmod),
          exclude: f.exclude,
          parents: f.parents,
          unpack: f.unpack,
        },
      };
    case 'mkdir':
      return { mkdir: { ...opt('dest', indexOut(f.dest)), path: f.path, mode: f.mode, user: f.user } };
  }
}

function decodeFile(w: FileOp__Output): FileDefinition {
  switch (w.action) {
    case 'copy': {
      const c = required(w.copy, 'file.copy');
      return {
        action: 'copy',
        dest: indexIn(c.dest),
        sources: c.sources.map(decodeCopySource),
        inline: c.inline.map((i) => ({ name: i.name, content: i.content })),
        destPath: c.destPath,
        ...opt('chown', c.chown),
        ...opt('chmod', c.chmod),
        exclude: c.exclude,
        parents: c.parents,
        unpack: c.unpack,
      };
    }
    case 'mkdir': {
      const m = required(w.mkdir, 'file.mkdir');
      return { action: 'mkdir', dest: indexIn(m.dest), path: m.path, mode: m.mode, user: m.user };
    }
    default:
      throw new ContractError('file op has no action (copy or mkdir)');
  }
}
