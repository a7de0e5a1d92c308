import type { BlobStore } from '../../cache/blob-store.js';
import type { CacheIndex, LayerRecord } from '../../cache/cache-index.js';
import type { Lease } from '../../cache/lease.js';
import { sha256, type Digest } from '../../oci/digest.js';
import type { GzipMemberHints } from '../../worker/layers/gzip-member-hints.js';
import { gzipLayer } from '../../worker/layers/layer-writer.js';

/** The cache index key under which the gzip form of the uncompressed layer `diffID` is remembered. */
export const gzipRecordKey = (diffID: Digest): Digest => sha256(`dockyard gzip layer\0${diffID}`);

/**
 * Gives an image its layers as it carries them: a layer the worker stored uncompressed is compressed
 * once, when an export first needs it, and the compressed blob is remembered in the cache index (a
 * record of one layer, leased, pruned and verified like any other), so that a rebuild reuses it.
 * Compression is deterministic, so the image's digests do not depend on when it happened.
 */
export class LayerCompressor {
  private readonly running = new Map<Digest, Promise<LayerRecord>>();

  constructor(
    /** The build's leased store. */
    private readonly blobs: BlobStore,
    private readonly index: CacheIndex,
    private readonly lease: Lease,
    /** Where earlier layers' gzip members lie, so that a layer that changed in one place is compressed again only there. */
    private readonly hints?: GzipMemberHints,
  ) {}

  /** Starts compressing `layer` if an image will need it, so that the export finds it done. */
  prefetch(layer: LayerRecord): void {
    if (layer.gzipOnExport) this.gzipped(layer).catch(() => undefined); // the export awaits the same job
  }

  /** `layers` with every lazily stored one replaced by its gzip form; all compress at once. */
  forImage(layers: LayerRecord[]): Promise<LayerRecord[]> {
    return Promise.all(layers.map((l) => (l.gzipOnExport ? this.gzipped(l) : l)));
  }

  private gzipped(layer: LayerRecord): Promise<LayerRecord> {
    let job = this.running.get(layer.diffID);
    if (!job) {
      job = this.lookupOrCompress(layer);
      this.running.set(layer.diffID, job);
    }
    return job;
  }

  private async lookupOrCompress(layer: LayerRecord): Promise<LayerRecord> {
    const key = gzipRecordKey(layer.diffID);
    // Leased before it is read, as the solver's lookups are: a prune cannot take it in between.
    await this.lease.add([{ kind: 'record', key }]);
    const known = (await this.index.get(key))?.layers[0];
    if (known && known.diffID === layer.diffID && (await this.blobs.hold(known.digest))) {
      await this.index.touch(key);
      return known;
    }
    const gz = await gzipLayer(layer, this.blobs, this.hints);
    await this.index.put({ key, layers: [gz], created: new Date().toISOString() });
    return gz;
  }
}
