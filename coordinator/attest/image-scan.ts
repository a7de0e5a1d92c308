import { createHash } from 'node:crypto';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { visitImageFiles } from './image-files.js';
import { databaseKind, readDatabase, type FoundPackage } from './package-databases.js';

/** A regular file of the image, with the checksums SPDX asks for. */
export interface ScannedFile {
  path: string;
  sha1: string;
  sha256: string;
}

/** What an image's final filesystem holds: the packages its databases list, and every regular file. */
export interface ImageScan {
  packages: FoundPackage[];
  files: ScannedFile[];
  /** From /etc/os-release: `ID` and `VERSION_ID`, for package URLs. */
  os?: { id: string; versionId?: string };
}

/** Database files larger than this are not package databases worth reading into memory. */
const MAX_DATABASE = 64 << 20;

function osRelease(text: string): ImageScan['os'] {
  const values = new Map<string, string>();
  for (const m of text.matchAll(/^([A-Z_]+)=(.*)$/gm)) values.set(m[1]!, m[2]!.trim().replace(/^(["'])(.*)\1$/, '$2'));
  const id = values.get('ID');
  return id ? { id, ...(values.get('VERSION_ID') ? { versionId: values.get('VERSION_ID')! } : {}) } : undefined;
}

/** Reads the image's layers once, as streams, and collects packages and file checksums. */
export async function scanImage(layers: readonly { digest: Digest; mediaType: string }[], blobs: BlobStore): Promise<ImageScan> {
  const packages = new Map<string, FoundPackage>();
  const files = new Map<string, ScannedFile>();
  const links: { path: string; target: string }[] = [];
  let os: ImageScan['os'];
  let osFrom: string | undefined;
  await visitImageFiles(layers, blobs, async (file, body) => {
    if (file.type === 'link') {
      links.push({ path: file.path, target: file.linkname! });
      return;
    }
    if (file.type !== 'file') return;
    const kind = databaseKind(file.path);
    const isOsRelease = file.path === 'etc/os-release' || file.path === 'usr/lib/os-release';
    const sha1 = createHash('sha1');
    const sha256 = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      sha1.update(chunk);
      sha256.update(chunk);
      size += chunk.length;
      if ((kind || isOsRelease) && size <= MAX_DATABASE) chunks.push(chunk);
    }
    files.set(file.path, { path: file.path, sha1: sha1.digest('hex'), sha256: sha256.digest('hex') });
    if (size > MAX_DATABASE) return;
    const text = Buffer.concat(chunks).toString('utf8');
    // /etc/os-release wins over /usr/lib/os-release, as the os-release manual says.
    if (isOsRelease && osFrom !== 'etc/os-release') [os, osFrom] = [osRelease(text), file.path];
    if (kind) {
      for (const p of readDatabase(kind, text, file.path)) {
        const key = `${p.ecosystem}/${p.name}@${p.version}/${p.arch ?? ''}`;
        if (!packages.has(key)) packages.set(key, p);
      }
    }
  });
  // A hard link's content is its target's, which the same layer wrote before it.
  for (const l of links) {
    const target = files.get(l.target);
    if (target) files.set(l.path, { ...target, path: l.path });
  }
  const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return {
    packages: [...packages.values()].sort((a, b) => a.ecosystem.localeCompare(b.ecosystem) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version)),
    files: [...files.values()].sort(byPath),
    ...(os ? { os } : {}),
  };
}
