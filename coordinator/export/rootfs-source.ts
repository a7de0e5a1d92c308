import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import { SnapshotStore } from '../../worker/snapshots/snapshot-store.js';

/** A finished image's filesystem, readable at `path` until `release`. */
export interface RootfsView {
  path: string;
  release(): Promise<void>;
}

/** Where the `local` and `tar` outputs get the final filesystem from. */
export type RootfsSource = (layers: LayerRecord[]) => Promise<RootfsView>;

/**
 * The filesystem unpacked from the layers' blobs into a temporary directory under `scratchDir`: what
 * a coordinator does, whose workers hold the snapshots on other machines. (A local build passes its own
 * snapshots instead, which are already unpacked.)
 */
export function blobRootfs(blobs: BlobStore, scratchDir: string): RootfsSource {
  return async (layers) => {
    const dir = await mkdtemp(join(scratchDir, 'rootfs-'));
    try {
      const snapshots = new SnapshotStore(dir, blobs);
      const mounted = await snapshots.mount(layers, false);
      return {
        path: mounted.path,
        release: async () => {
          await mounted.release();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  };
}
