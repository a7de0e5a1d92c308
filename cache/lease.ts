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

/** A resource as one line of text (`blob <digest>`, `snapshot <diffID>`, `record <key>`), as backends store it. */
export const leaseLine = (r: LeasedResource): string => (r.kind === 'blob' ? `blob ${r.digest}` : r.kind === 'snapshot' ? `snapshot ${r.diffID}` : `record ${r.key}`);

/** Adds what `line` names to `set`; other lines are ignored. */
export function addLeaseLine(set: LeasedSet, line: string): void {
  const [kind, digest] = line.split(' ') as [string, Digest | undefined];
  if (!digest) return;
  if (kind === 'blob') set.blobs.add(digest);
  else if (kind === 'snapshot') set.snapshots.add(digest);
  else if (kind === 'record') set.records.add(digest);
}

/** A lease that hands each resource to its backend once; later adds of it wait for that first one. */
export abstract class LeaseBase implements Lease {
  private readonly held = new Map<string, Promise<void>>();
  /** Lines queued in the current turn, appended together once it ends. */
  private batch?: { lines: string[]; appended: Promise<void> };

  constructor(readonly id: string) {}

  /** Records `lines` in the backend, then waits for the collections that were running at that moment. */
  protected abstract append(lines: string[]): Promise<void>;
  protected abstract drop(): Promise<void>;

  async add(resources: LeasedResource[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    for (const r of resources) {
      const line = leaseLine(r);
      let added = this.held.get(line);
      if (!added) this.held.set(line, (added = this.queue(line)));
      waits.add(added);
    }
    await Promise.all(waits);
  }

  /**
   * `line`, appended with the others added in this turn: a step's thousands of file blobs, each held
   * by its own call at once, cost one append and one look for collections instead of one each.
   */
  private queue(line: string): Promise<void> {
    if (!this.batch) {
      const lines: string[] = [];
      const appended = Promise.resolve().then(() => {
        this.batch = undefined;
        return this.append(lines);
      });
      this.batch = { lines, appended };
    }
    this.batch.lines.push(line);
    return this.batch.appended;
  }

  async release(): Promise<void> {
    this.held.clear();
    await this.drop();
  }
}
