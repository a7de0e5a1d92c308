import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { putBlob, putFile, readBlob, type BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { forEachLimited } from '../../oci/for-each-limited.js';
import type { FileEntry__Output as FileEntry } from '../../proto/generated/dockyard/v1/FileEntry.js';
import { IgnoreRules } from '../../worker/file/ignore-rules.js';
import { BuildContext, type ContextEntry } from '../context/build-context.js';
import type { TreeEntry } from '../../worker/contract/step-io.js';
import { trace } from '../../oci/trace.js';

/** An uploaded context the store lacks a part of, or that names a path outside itself. */
export class UploadedContextError extends ExpectedError {}

/**
 * What a queued build names by digest (`BuildRequest.context`, an `uploaded` named context): a small
 * JSON blob in the farm's store listing the context's entries (file contents are blobs of their own),
 * or an OCI layout by the digest of its index.json.
 */
export type ContextManifest =
  | { kind: 'local'; entries: FileEntry[]; ignorePatterns: string[]; ignoreFile?: string }
  | { kind: 'oci-layout'; indexDigest: string; tag?: string; digest?: string };

export async function storeContextManifest(store: BlobStore, manifest: ContextManifest): Promise<Digest> {
  return (await putBlob(store, JSON.stringify(manifest))).digest;
}

const fileType = { file: 'FILE_TYPE_FILE', dir: 'FILE_TYPE_DIR', symlink: 'FILE_TYPE_SYMLINK' } as const;

/**
 * A local context's manifest, walked and hashed with the BuildContext a local build uses
 * (`.dockerignore` applied), and the local file behind each content digest, to upload.
 */
export function localContextManifest(ctx: BuildContext): { manifest: Extract<ContextManifest, { kind: 'local' }>; files: Map<Digest, string> } {
  const entries: FileEntry[] = [];
  const files = new Map<Digest, string>();
  for (const e of ctx.entries().values()) {
    if (e.type === 'other') continue;
    const entry: FileEntry = { path: e.path, type: fileType[e.type], mode: e.mode, uid: e.uid, gid: e.gid, size: e.size };
    if (e.type === 'file') {
      const digest = ctx.fileDigest(e.path) as Digest;
      entry.digest = digest;
      files.set(digest, join(ctx.root, e.path));
    }
    if (e.type === 'symlink' && e.linkTarget !== undefined) entry.linkTarget = e.linkTarget;
    entries.push(entry);
  }
  return { manifest: { kind: 'local', entries, ignorePatterns: ctx.ignore.patterns, ...(ctx.ignoreFile ? { ignoreFile: ctx.ignoreFile } : {}) }, files };
}

/** Puts a local context of this machine into the store (the contents it lacks, then the manifest): what a client's upload does, for the coordinator's own builds. */
export async function storeLocalContext(store: BlobStore, ctx: BuildContext): Promise<Digest> {
  await ctx.load();
  const { manifest, files } = localContextManifest(ctx);
  for (const [digest, path] of files) if ((await store.stat(digest)) === undefined) await putFile(store, path, digest);
  return storeContextManifest(store, manifest);
}

export async function readContextManifest(store: BlobStore, digest: Digest): Promise<ContextManifest> {
  if ((await store.stat(digest)) === undefined) throw new UploadedContextError(`uploaded context ${digest} is not in the farm's store`);
  return JSON.parse((await readBlob(store, digest)).toString('utf8')) as ContextManifest;
}

function safePath(p: string): string {
  if (p === '' || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '.' || s === '')) throw new UploadedContextError(`uploaded context names a bad path ${JSON.stringify(p)}`);
  return p;
}

const entryType = { FILE_TYPE_FILE: 'file', FILE_TYPE_DIR: 'dir', FILE_TYPE_SYMLINK: 'symlink' } as const;

/** An uploaded local context as the planner and the farm's workers see it, with no file written. */
export interface UploadedContext {
  /** The context for the planner: the client's entries, ignore rules and file digests. */
  ctx: BuildContext;
  /** The entries as the file trees of step inputs carry them (`RemoteWorkersOptions.knownTrees`). */
  tree: Map<string, TreeEntry>;
}

/**
 * Opens a local context's manifest, named `dir` but never written there: the planner sees the entries
 * and checksums the client's local build would, and a step's context input is built from the same
 * entries, its files being blobs in the store already. Fails in one line, naming the file, when the
 * store lacks one.
 */
export async function openUploadedContext(store: BlobStore, m: Extract<ContextManifest, { kind: 'local' }>, dir: string): Promise<UploadedContext> {
  const entries: ContextEntry[] = [];
  const tree = new Map<string, TreeEntry>();
  const digests = new Map<string, Digest>();
  for (const e of m.entries) {
    const type = entryType[e.type as keyof typeof entryType];
    if (!type) continue;
    const path = safePath(e.path);
    const mode = (e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644)) & 0o7777;
    const base = { path, type, mode, uid: e.uid ?? 0, gid: e.gid ?? 0 };
    const linkTarget = type === 'symlink' ? { linkTarget: e.linkTarget ?? '' } : {};
    entries.push({ ...base, size: e.size ?? 0, ...linkTarget });
    // As a tree read from a disk has them: a size for files only.
    tree.set(path, { ...base, size: type === 'file' ? (e.size ?? 0) : 0, ...linkTarget, ...(type === 'file' ? { digest: e.digest as Digest } : {}) });
    if (type !== 'file') continue;
    if (!e.digest) throw new UploadedContextError(`uploaded context file ${e.path} has no content digest`);
    digests.set(path, e.digest as Digest);
  }
  await forEachLimited([...digests], 16, async ([path, digest]) => {
    if ((await store.stat(digest)) === undefined) throw new UploadedContextError(`uploaded context file ${path} (${digest}) is not in the farm's store: upload it first`);
  });
  trace(`farm: ${entries.length} context entries opened`);
  return { ctx: BuildContext.fromEntries(dir, new IgnoreRules(m.ignorePatterns), m.ignoreFile, entries, digests), tree };
}

interface Node {
  mediaType?: string;
  manifests?: { digest: string }[];
  config?: { digest: string };
  layers?: { digest: string }[];
}

/** Writes an uploaded OCI layout into `dir`: index.json and every blob it reaches, from the store. */
export async function materialiseLayout(store: BlobStore, m: Extract<ContextManifest, { kind: 'oci-layout' }>, dir: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = await readBlob(store, m.indexDigest as Digest);
  await writeFile(join(dir, 'index.json'), index);
  const seen = new Set<string>();
  const copy = async (digest: string): Promise<boolean> => {
    if (seen.has(digest)) return false;
    seen.add(digest);
    if ((await store.stat(digest as Digest)) === undefined) throw new UploadedContextError(`uploaded OCI layout lacks blob ${digest}: upload it first`);
    await pipeline(store.stream(digest as Digest), createWriteStream(join(dir, 'blobs', 'sha256', digest.slice(7))));
    return true;
  };
  const visit = async (node: Node): Promise<void> => {
    for (const d of [...(node.config ? [node.config] : []), ...(node.layers ?? [])]) await copy(d.digest);
    for (const d of node.manifests ?? []) if (await copy(d.digest)) await visit(JSON.parse((await readBlob(store, d.digest as Digest)).toString('utf8')) as Node);
  };
  await visit(JSON.parse(index.toString('utf8')) as Node);
}
