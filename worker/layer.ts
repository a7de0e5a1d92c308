import type { LayerRecord } from '../cache/cache-index.js';
import type { Digest } from '../oci/digest.js';

/** A new layer whose snapshot is on disk while its compressed blob is still being written. */
export interface PendingLayer {
  diffID: Digest;
  record: Promise<LayerRecord>;
}

/** A layer of a step's result: finished, or pending compression. Steps need only the snapshot. */
export type Layer = LayerRecord | PendingLayer;

export const isPending = (l: Layer): l is PendingLayer => 'record' in l;

/** The finished records of `layers`, once every blob is written. */
export function settleLayers(layers: Layer[]): Promise<LayerRecord[]> {
  return Promise.all(layers.map((l) => (isPending(l) ? l.record : l)));
}
