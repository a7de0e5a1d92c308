import type { LayerRecord } from '../cache/cache-index.js';
import type { Digest } from '../oci/digest.js';

/** A new layer whose snapshot is on disk while its compressed blob is still being written. */
export interface PendingLayer {
  diffID: Digest;
  record: Promise<LayerRecord>;
}

/**
 * A new layer whose tar, hence its diffID, is still being written, while later steps already run on
 * it: its snapshot is known by `snapshot`, a name in this process's snapshot store, until then. A
 * worker's own; never crosses a process boundary.
 */
export interface UnnamedLayer {
  snapshot: string;
  record: Promise<LayerRecord>;
}

/** A layer of a step's result: finished, or pending its blob (and maybe its diffID). Steps need only the snapshot. */
export type Layer = LayerRecord | PendingLayer | UnnamedLayer;

export const isPending = (l: Layer): l is PendingLayer | UnnamedLayer => 'record' in l;
export const isUnnamed = (l: Layer): l is UnnamedLayer => 'snapshot' in l;

/** The finished records of `layers`, once every blob is written. */
export function settleLayers(layers: Layer[]): Promise<LayerRecord[]> {
  return Promise.all(layers.map((l) => (isPending(l) ? l.record : l)));
}
