import { posix } from 'node:path';
import type { Header } from 'tar-stream';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { zlib } from '../../oci/lazy-modules.js';

/** One entry of the image's final filesystem, as the top-most layer that has it wrote it. */
export interface ImageFile {
  /** Slash-separated, relative to the root, no leading `./` or `/`. */
  path: string;
  type: 'file' | 'link' | 'symlink' | 'directory' | 'other';
  /** Hard and symbolic links: what they point at. */
  linkname?: string;
}

/** Reads a file's content (the visitor must consume or ignore it before returning). */
export type FileVisitor = (file: ImageFile, body: AsyncIterable<Buffer>) => Promise<void>;

export class ImageFilesError extends ExpectedError {}

interface LayerBlob {
  digest: Digest;
  mediaType: string;
}

function clean(name: string): string {
  const p = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

function kind(h: Header): ImageFile['type'] {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'link':
    case 'symlink':
    case 'directory':
      return h.type;
    default:
      return 'other';
  }
}

/**
 * What upper layers decided about paths below: which are taken (the lower entry is hidden), deleted by
 * a whiteout, below an opaque directory, or below something that is no longer a directory.
 */
class Shadows {
  readonly taken = new Set<string>();
  readonly deleted = new Set<string>();
  readonly opaque = new Set<string>();
  readonly nonDirs = new Set<string>();

  hides(path: string): boolean {
    if (this.taken.has(path) || this.deleted.has(path)) return true;
    for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) {
      if (this.deleted.has(dir) || this.opaque.has(dir) || this.nonDirs.has(dir)) return true;
    }
    return this.opaque.has('');
  }

  merge(other: Shadows): void {
    for (const k of ['taken', 'deleted', 'opaque', 'nonDirs'] as const) for (const p of other[k]) this[k].add(p);
  }
}

async function drain(body: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of body);
}

/**
 * Visits every entry of the filesystem that `layers` (base first) make, reading the layer blobs as
 * streams from the top layer down: whiteouts and opaque directories hide what lower layers hold, and
 * an upper entry hides a lower one at the same path. No layer is unpacked to disk.
 */
export async function visitImageFiles(layers: readonly LayerBlob[], blobs: BlobStore, visit: FileVisitor): Promise<void> {
  const { extract: tarExtract } = await import('tar-stream');
  const shadows = new Shadows();
  for (const layer of [...layers].reverse()) {
    const gzip = /gzip$/.test(layer.mediaType);
    if (!gzip && !/tar$/.test(layer.mediaType)) throw new ImageFilesError(`layer ${layer.digest} has media type ${layer.mediaType}, which the SBOM scanner cannot read (gzip or plain tar only)`);
    const own = new Shadows();
    const ex = tarExtract();
    const source = blobs.stream(layer.digest);
    const fail = (err: Error): void => void ex.destroy(err);
    source.on('error', fail);
    if (gzip) {
      const gunzip = zlib().createGunzip({ chunkSize: 1 << 20 });
      gunzip.on('error', fail);
      source.pipe(gunzip).pipe(ex as unknown as NodeJS.WritableStream);
    } else source.pipe(ex as unknown as NodeJS.WritableStream);
    for await (const entry of ex) {
      const body = entry as AsyncIterable<Buffer>;
      const path = clean(entry.header.name);
      const base = posix.basename(path);
      const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
      if (base === '.wh..wh..opq') own.opaque.add(dir);
      else if (base.startsWith('.wh.')) own.deleted.add(posix.join(dir, base.slice(4)));
      else if (path !== '' && !shadows.hides(path)) {
        const file: ImageFile = { path, type: kind(entry.header), ...(entry.header.linkname ? { linkname: entry.header.type === 'link' ? clean(entry.header.linkname) : entry.header.linkname } : {}) };
        own.taken.add(path);
        if (file.type !== 'directory') own.nonDirs.add(path);
        await visit(file, body);
      }
      await drain(body);
    }
    shadows.merge(own);
  }
}
