import type { Digest } from '../oci/digest.js';

/**
 * What a running build holds so that no pruning, from any process, removes it under the build:
 * blobs by digest, unpacked snapshots by diffID, cache records by key.
 */
export type LeasedResource = { kind: 'blob'; digest: Digest } | { kind: 'snapshot'; diffID: Digest } | { kind: 'record'; key: Digest };

export interface LeasedSet {
  blobs: Set<Digest>;
  snapshots: Set<Digest>;
  records: Set<Digest>;
}

/**
 * One build's hold on the cache, as containerd and BuildKit have them. Callers add a resource before
 * they create it, or before they check that it exists: once `add` resolves, whatever exists stays until
 * `release`. A lease whose holder died expires by itself.
 */
export interface Lease {
  readonly id: string;
  add(resources: LeasedResource[]): Promise<void>;
  release(): Promise<void>;
}

/**
 * Hands out leases and runs collections. A collection sees every live lease; an `add` that races with
 * a collection returns only after it ends, so the caller's existence check sees what it left.
 */
export interface LeaseManager {
  create(): Promise<Lease>;
  collect<T>(fn: (leased: LeasedSet) => Promise<T>): Promise<T>;
}

export const emptyLeasedSet = (): LeasedSet => ({ blobs: new Set(), snapshots: new Set(), records: new Set() });
