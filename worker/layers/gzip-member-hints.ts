import { HintFolder } from '../../cache/hint-folder.js';
import { readBlob, type BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import type { ChunkRef, MemberPlacement, ReusableMembers } from './parallel-gzip.js';

/** A member's place: the compressed blob that holds it, its offset and its length. */
type Place = [Digest, number, number];

interface Saved {
  version: 1;
  /** `<chunk sha256>-<chunk size>` to where its member lies. */
  members: Record<string, Place>;
}

/** The newest entries kept: some tens of GB of layers at about 1 MiB a chunk. */
const MAX_ENTRIES = 50_000;
/** Blobs read whole to take members from; a larger one is not used (its members are compressed again). */
const MAX_SOURCE_BYTES = 64 << 20;

const keyOf = (c: ChunkRef): string => `${c.sha256}-${c.size}`;

/**
 * Where the gzip member of each chunk lies in a compressed layer blob made here before, so that a
 * layer that changed in one place is compressed again only there (`gzipParallel`'s `reuse`). Kept
 * beside the cache (`gzip-members/`), one file per zlib version and level, the only things besides
 * the chunk that decide a member's bytes. Only a hint: an entry may outlive its blob, in which case the
 * chunk is compressed again, and every member taken is checked against its chunk.
 */
export class GzipMemberHints {
  private readonly folder: HintFolder;

  constructor(cacheDir: string) {
    this.folder = new HintFolder(cacheDir, 'gzip-members');
  }

  private key(level: number): string {
    return `zlib-${process.versions.zlib}-level-${level}`;
  }

  private load(level: number): Map<string, Place> {
    return this.folder.read(this.key(level), (doc) => ((doc as Saved).version === 1 ? new Map(Object.entries((doc as Saved).members)) : undefined)) ?? new Map();
  }

  /** The members known now, read from `blobs` (each source blob once, whole and digest-checked). */
  source(blobs: BlobStore, level = 6): ReusableMembers {
    const known = this.load(level);
    const read = new Map<Digest, Promise<Buffer | undefined>>();
    const blob = (digest: Digest): Promise<Buffer | undefined> => {
      let b = read.get(digest);
      if (!b) {
        b = blobs.stat(digest).then((size) => (size !== undefined && size <= MAX_SOURCE_BYTES ? readBlob(blobs, digest) : undefined));
        // Pruned since, or unreadable: the chunks are compressed again.
        b = b.catch(() => undefined);
        read.set(digest, b);
      }
      return b;
    };
    return {
      find: async (chunk) => {
        const place = known.get(keyOf(chunk));
        if (!place) return undefined;
        const [digest, offset, length] = place;
        const member = (await blob(digest))?.subarray(offset, offset + length);
        return member?.length === length ? member : undefined;
      },
    };
  }

  /** Remembers where `members` lie in the blob `digest`; the oldest entries go past MAX_ENTRIES. */
  remember(digest: Digest, members: MemberPlacement[], level = 6): void {
    // Read again: another build may have added entries since this one started.
    const all = this.load(level);
    for (const m of members) {
      const key = keyOf(m);
      all.delete(key); // re-inserted last: the newest
      all.set(key, [digest, m.offset, m.length]);
    }
    const excess = all.size - MAX_ENTRIES;
    if (excess > 0) for (const key of [...all.keys()].slice(0, excess)) all.delete(key);
    // Only a hint: if the write fails, the next build compresses those chunks again.
    this.folder.write(this.key(level), { version: 1, members: Object.fromEntries(all) } satisfies Saved);
  }

  /** Forgets every entry (`prune --all`). */
  clear(): Promise<void> {
    return this.folder.clear();
  }
}
