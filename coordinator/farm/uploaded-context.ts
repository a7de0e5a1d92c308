import { chmodSync, createWriteStream, lchownSync, writeFileSync } from 'node:fs';
import { chmod, lchown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { putBlob, putFile, readBlob, type BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { forEachLimited } from '../../oci/for-each-limited.js';
import type { FileEntry__Output as FileEntry } from '../../proto/generated/dockyard/v1/FileEntry.js';
import { IgnoreRules } from '../../worker/file/ignore-rules.js';
import { BuildContext } from '../context/build-context.js';
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

/** Files up to this size are read whole when a context is written out. */
const SMALL_FILE = 1 << 20;

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

/**
 * Writes a local context's files into `dir` (contents copied from the store, checked against their
 * digests: the store's files are never handed out to be changed) with their modes and owners, and
 * opens it with the client's ignore rules and the files' digests, so that the planner sees the
 * entries and checksums the client's local build would without hashing the files again. Files are
 * written a few at a time: a context is mostly small files, and each costs a few system calls.
 */
export async function materialiseLocal(store: BlobStore, m: Extract<ContextManifest, { kind: 'local' }>, dir: string): Promise<BuildContext> {
  await mkdir(dir, { recursive: true });
  const entries = [...m.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of entries) safePath(e.path);
  const dirs = entries.filter((e) => e.type === 'FILE_TYPE_DIR');
  // Parents before children (byte order), so each mkdir makes one directory.
  for (const e of dirs) await mkdir(join(dir, e.path), { recursive: true });
  const digests = new Map<string, string>();
  await forEachLimited(
    entries.filter((e) => e.type === 'FILE_TYPE_FILE' || e.type === 'FILE_TYPE_SYMLINK'),
    16,
    async (e) => {
      const abs = join(dir, e.path);
      // A parent the client's ignore rules left out of the entries (a re-included file below it).
      await mkdir(join(abs, '..'), { recursive: true });
      if (e.type === 'FILE_TYPE_SYMLINK') {
        await symlink(e.linkTarget ?? '', abs);
        await lchown(abs, e.uid ?? 0, e.gid ?? 0);
        return;
      }
      if (!e.digest) throw new UploadedContextError(`uploaded context file ${e.path} has no content digest`);
      if ((await store.stat(e.digest as Digest)) === undefined) throw new UploadedContextError(`uploaded context file ${e.path} (${e.digest}) is not in the farm's store: upload it first`);
      // A small file is read whole and written with synchronous calls: microseconds each, where a
      // stream and a trip through libuv's thread pool per call cost most of a context's time.
      if ((e.size ?? Infinity) <= SMALL_FILE) writeFileSync(abs, await readBlob(store, e.digest as Digest), { mode: 0o600 });
      else await pipeline(store.stream(e.digest as Digest), createWriteStream(abs, { mode: 0o600 }));
      // Owner before mode: a change of owner clears the set-id bits.
      lchownSync(abs, e.uid ?? 0, e.gid ?? 0);
      chmodSync(abs, (e.mode ?? 0o644) & 0o7777);
      digests.set(e.path, e.digest);
    },
  );
  trace(`farm: ${entries.length} context entries written`);
  // Directories last, deepest first: their modes may forbid writing into them.
  for (const e of dirs.reverse()) {
    const abs = join(dir, e.path);
    await lchown(abs, e.uid ?? 0, e.gid ?? 0);
    await chmod(abs, (e.mode ?? 0o755) & 0o7777);
  }
  const ctx = new BuildContext(dir, new IgnoreRules(m.ignorePatterns), m.ignoreFile);
  ctx.knowDigests(digests);
  return ctx;
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
