import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Lease } from '../../cache/lease.js';
import { isPending, isUnnamed, type Layer } from '../layer.js';
import type { Digest } from '../../oci/digest.js';
import { extractLayer } from '../layers/layer-extractor.js';
import { runCommand } from '../system/command.js';
import { trace } from '../../oci/trace.js';
import { mountOverlay, unmount } from '../system/mount.js';
import { applyLayerDir, diffInto, manifestOf } from './copy-snapshotter.js';

/** A root filesystem mounted for one use. `upper` (writable mounts only) collects every change. */
export interface MountedRootfs {
  path: string;
  upper?: string;
  /**
   * Writable overlay mounts: the upper directory, where what is created under `path` physically lands,
   * so that a new file can be hard-linked there from a snapshot. Only below directories the step itself
   * created. (The copying fallback copies its diff out afterwards: links would gain nothing.)
   */
  linkRoot?: string;
  /** Unmounts but keeps the directories, so the upper one can be read as the step's diff. */
  detach(): Promise<void>;
  /** Unmounts and removes everything not adopted as a snapshot. */
  release(): Promise<void>;
}

/**
 * Each layer unpacked once into its own directory, named by its diffID; a step's root filesystem is an
 * overlay of its layer chain. Directory names are short so that deep chains fit the mount options.
 * With a lease, every snapshot this store unpacks, adopts or mounts stays until the lease ends.
 */
export class SnapshotStore {
  readonly dir: string;
  private readonly mountsDir: string;
  private readonly tmpDir: string;
  private readonly active = new Set<string>();
  private readonly extracting = new Map<string, Promise<number>>();
  /** Snapshots kept under a temporary name while their tar is written (`keep`), by that name. */
  private readonly kept = new Map<string, Kept>();
  /**
   * Whether overlay mounts work here: undecided until a mount succeeds (yes) or a failed one's probe
   * fails too (no); DOCKYARD_SNAPSHOTTER=copy says no at once. No probe on the way to a mount that works.
   */
  private overlayWorks: boolean | undefined = process.env.DOCKYARD_SNAPSHOTTER === 'copy' ? false : undefined;
  private probe?: Promise<boolean>;

  constructor(
    root: string,
    private readonly blobs: BlobStore,
    private readonly lease?: Lease,
  ) {
    this.dir = join(root, 'snapshots');
    this.mountsDir = join(root, 'mounts');
    this.tmpDir = join(root, 'tmp');
    // The empty lower directories are the root of a FROM scratch filesystem: 0755 whatever the umask.
    for (const empty of ['empty-a', 'empty-b']) {
      mkdirSync(join(this.dir, empty), { recursive: true });
      chmodSync(join(this.dir, empty), 0o755);
    }
    mkdirSync(this.mountsDir, { recursive: true });
  }

  private name(diffID: Digest): string {
    return diffID.slice(7, 7 + 24);
  }

  path(diffID: Digest): string {
    return join(this.dir, this.name(diffID));
  }

  has(diffID: Digest): boolean {
    return existsSync(this.path(diffID));
  }

  /** Unpacks a layer from the blob store unless it already is; concurrent callers share the work. */
  async ensure(layer: Layer): Promise<void> {
    // A kept snapshot is here until it takes its name (or, when another copy had it, that copy is leased).
    if (isUnnamed(layer)) return;
    await this.lease?.add([{ kind: 'snapshot', diffID: layer.diffID }]);
    if (this.has(layer.diffID)) return;
    // A pending layer's snapshot was adopted from its upper directory; if it is gone, wait for its blob.
    if (isPending(layer)) return this.ensure(await layer.record);
    const job = this.extracting.get(this.name(layer.diffID)) ?? this.unpack(layer, this.blobs.stream(layer.digest));
    await job;
  }

  /**
   * Unpacks `layer` from `source`, its blob's bytes as they arrive (a download), unless the snapshot
   * already is here: then `source` is dropped unread. The snapshot appears only once `verified`
   * resolves (the blob's digest checked); if it rejects, nothing appears. Returns the unpacked size,
   * or undefined when the snapshot was here or being made already.
   */
  async ensureFrom(layer: LayerRecord, source: Readable, verified: Promise<unknown>): Promise<number | undefined> {
    try {
      await this.lease?.add([{ kind: 'snapshot', diffID: layer.diffID }]);
      const running = this.extracting.get(this.name(layer.diffID));
      if (running) source.destroy();
      if (this.has(layer.diffID)) return undefined;
      if (running) {
        await running;
        return undefined;
      }
      return await this.unpack(layer, source, verified);
    } finally {
      // Unread bytes would hold up the download that feeds `source`.
      source.destroy();
    }
  }

  /** Extracts into a temporary directory, then renames it into place (after `before`, if given); the tar's size. */
  private unpack(layer: LayerRecord, source: Readable, before?: Promise<unknown>): Promise<number> {
    const name = this.name(layer.diffID);
    const job = (async () => {
      const tmp = join(this.dir, `.tmp-${process.pid}-${name}-${randomBytes(4).toString('hex')}`);
      try {
        const bytes = await extractLayer(source, tmp, { gzip: layer.mediaType.endsWith('gzip') });
        trace(`snapshot: unpacked ${layer.diffID.slice(7, 19)}`);
        await before;
        await rename(tmp, this.path(layer.diffID)).catch(async (err: NodeJS.ErrnoException) => {
          // Another process got there first: its copy is as good as ours.
          if (!this.has(layer.diffID)) throw err;
          await rm(tmp, { recursive: true, force: true });
        });
        return bytes;
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      } finally {
        this.extracting.delete(name);
      }
    })();
    this.extracting.set(name, job);
    return job;
  }

  /** A second directory with the snapshot `name`'s content (hard links), for a chain that needs it twice. */
  private async alias(name: string, n: number): Promise<string> {
    const aliasName = `${name}-${n}`;
    if (existsSync(join(this.dir, aliasName))) return aliasName;
    const tmp = join(this.dir, `.tmp-${process.pid}-${aliasName}-${randomBytes(4).toString('hex')}`);
    try {
      await runCommand('cp', ['-al', join(this.dir, name), tmp]);
      await rename(tmp, join(this.dir, aliasName)).catch(() => undefined);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return aliasName;
  }

  /** Takes a finished upper directory as the snapshot of the layer made from it: no second unpack. */
  async adopt(upper: string, diffID: Digest): Promise<void> {
    await this.lease?.add([{ kind: 'snapshot', diffID }]);
    if (this.has(diffID)) return rm(upper, { recursive: true, force: true });
    await rename(upper, this.path(diffID)).catch(async () => {
      if (!this.has(diffID)) throw new Error(`cannot store snapshot ${diffID}`);
      await rm(upper, { recursive: true, force: true });
    });
  }

  /**
   * Keeps `upper` as a snapshot under a temporary name while `describe` (its layer's tar) reads it, so
   * that later steps can mount it at once instead of waiting for the tar. Once `describe` gives the
   * diffID, the snapshot takes its name as soon as no mount uses it (a lower directory is never moved
   * under a mount being set up); if `describe` fails, it is removed then. `snapshot` names it for
   * `mount` meanwhile. A killed process leaves a `.tmp-` directory that `cleanStale` removes.
   */
  keep<T extends { diffID: Digest }>(upper: string, describe: (dir: string) => Promise<T>): { snapshot: string; described: Promise<T> } {
    const tmp = `.tmp-${process.pid}-kept-${randomBytes(6).toString('hex')}`;
    renameSync(upper, join(this.dir, tmp));
    const k: Kept = { at: tmp, users: 0, ended: false, settled: Promise.resolve() };
    this.kept.set(tmp, k);
    const described = describe(join(this.dir, tmp)).then(
      async (result) => {
        await this.lease?.add([{ kind: 'snapshot', diffID: result.diffID }]);
        k.diffID = result.diffID;
        this.endKept(k);
        return result;
      },
      (err: unknown) => {
        this.endKept(k);
        throw err;
      },
    );
    k.settled = described.then(
      () => undefined,
      () => undefined,
    );
    return { snapshot: tmp, described };
  }

  /** Marks a kept snapshot's tar as over, and places it if no mount uses it. */
  private endKept(k: Kept): void {
    k.ended = true;
    if (k.users === 0) this.place(k);
  }

  /**
   * Moves a kept snapshot to its diffID's name, or removes it when its tar failed or another copy has
   * that name. Synchronous up to the removal, so that no mount sees it half moved.
   */
  private place(k: Kept): void {
    if (k.placed) return;
    const tmp = k.at;
    if (k.diffID !== undefined && !this.has(k.diffID)) {
      try {
        renameSync(join(this.dir, tmp), this.path(k.diffID));
        k.at = this.name(k.diffID);
        k.placed = Promise.resolve();
        return;
      } catch {
        // Another process placed the same snapshot meanwhile (then theirs is used), or the rename
        // failed: then this process goes on using the temporary name, which `cleanStale` removes later.
        if (!this.has(k.diffID)) return void (k.placed = Promise.resolve());
      }
    }
    if (k.diffID !== undefined) k.at = this.name(k.diffID);
    k.placed = rm(join(this.dir, tmp), { recursive: true, force: true });
  }

  /** The directory name (in this store) of a layer's snapshot, and the kept snapshot it is, if one. */
  private locate(layer: Layer): { name: string; kept?: Kept } {
    if (!isUnnamed(layer)) return { name: this.name(layer.diffID) };
    const kept = this.kept.get(layer.snapshot);
    if (!kept) throw new Error(`snapshot ${layer.snapshot} is not kept by this process`);
    return { name: kept.at, kept };
  }

  /** Counts a mount's use of the kept snapshots among `layers`; the returned function ends it. */
  private use(layers: Layer[]): () => void {
    const used = layers.map((l) => this.locate(l).kept).filter((k): k is Kept => k !== undefined && k.placed === undefined);
    for (const k of used) k.users++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const k of used) if (--k.users === 0 && k.ended) this.place(k);
    };
  }

  /** Waits for every kept snapshot's tar, then places each (after `releaseAll`, when nothing is mounted). */
  async settleKept(): Promise<void> {
    const all = [...this.kept.values()];
    await Promise.all(all.map((k) => k.settled));
    for (const k of all) {
      k.users = 0;
      this.place(k);
    }
    await Promise.all(all.map((k) => k.placed));
  }

  /**
   * Whether an overlay of two empty directories mounts: asked once a real mount has failed, to tell a
   * place without overlayfs (then plain copies, from then on) from a mount that failed for its own reasons.
   */
  private overlayProbe(): Promise<boolean> {
    this.probe ??= (async () => {
      const probe = join(this.mountsDir, `${process.pid}-probe-${randomBytes(4).toString('hex')}`);
      await mkdir(join(probe, 'merged'), { recursive: true });
      try {
        await mountOverlay(join(probe, 'merged'), { lower: ['empty-a', 'empty-b'], cwd: this.dir });
        await unmount(join(probe, 'merged'));
        return true;
      } catch {
        process.stderr.write('WARNING: overlayfs cannot mount here; falling back to copying snapshots (slower)\n');
        return false;
      } finally {
        await rm(probe, { recursive: true, force: true });
      }
    })();
    return this.probe;
  }

  /** The copying fallback: a fresh copy of the chain; the diff is computed when the step detaches. */
  private async mountCopy(layers: Layer[], writable: boolean, base: string): Promise<MountedRootfs> {
    const merged = join(base, 'merged');
    await mkdir(merged, { recursive: true });
    await chmod(merged, 0o755);
    const done = this.use(layers);
    try {
      for (const l of layers) await applyLayerDir(join(this.dir, this.locate(l).name), merged);
    } finally {
      done();
    }
    const before = writable ? await manifestOf(merged) : undefined;
    const upper = writable ? join(base, 'upper') : undefined;
    this.active.add(base);
    let detached = false;
    return {
      path: merged,
      ...(upper ? { upper } : {}),
      detach: async () => {
        if (detached || !upper || !before) return;
        detached = true;
        await mkdir(upper);
        await chmod(upper, 0o755);
        await diffInto(merged, before, upper);
      },
      release: async () => {
        if (!this.active.delete(base)) return;
        await rm(base, { recursive: true, force: true });
      },
    };
  }

  /** Mounts the chain `layers` (base first). Writable mounts get a fresh upper directory. */
  async mount(layers: Layer[], writable: boolean): Promise<MountedRootfs> {
    await Promise.all(layers.map((l) => this.ensure(l)));
    if (this.overlayWorks !== false) {
      try {
        const mounted = await this.mountOverlayChain(layers, writable);
        this.overlayWorks = true;
        return mounted;
      } catch (err) {
        if (this.overlayWorks === true || (await this.overlayProbe())) throw err;
        this.overlayWorks = false;
      }
    }
    return this.mountCopy(layers, writable, join(this.mountsDir, `${process.pid}-${randomBytes(6).toString('hex')}`));
  }

  private async mountOverlayChain(layers: Layer[], writable: boolean): Promise<MountedRootfs> {
    const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const base = join(this.mountsDir, id);
    const merged = join(base, 'merged');
    const upper = writable ? join(base, 'upper') : undefined;
    // Directory calls here are synchronous: microseconds each, and a step's start must not wait for
    // turns of an event loop that a layer's tar shares.
    mkdirSync(merged, { recursive: true });
    // Counted from the tick that reads the names until the unmount: a kept snapshot does not move meanwhile.
    const done = this.use(layers);
    try {
      // Overlay refuses a directory twice. A layer repeated right after itself (a step that rewrote files
      // exactly as they were) changes nothing the second time, so it is stacked once; one that comes back
      // further up the chain (COPY a; RUN rm a; COPY a) is stacked again from a hard-linked alias.
      const names = layers.map((l) => this.locate(l).name).filter((name, i, all) => i === 0 || all[i - 1] !== name);
      const uses = new Map<string, number>();
      const lower: string[] = [];
      for (const name of names) {
        const n = uses.get(name) ?? 0;
        uses.set(name, n + 1);
        lower.unshift(n === 0 ? name : await this.alias(name, n));
      }
      // Overlay needs two lower directories when it has no upper one; empty ones fill the gap.
      if (lower.length === 0) lower.push('empty-a');
      if (!writable && lower.length === 1) lower.push('empty-b');
      if (writable) {
        // The upper directory is the root the step sees, and becomes the new layer's snapshot.
        mkdirSync(upper!);
        chmodSync(upper!, 0o755);
        mkdirSync(join(base, 'work'));
      }
      const rel = (p: string): string => relative(this.dir, p);
      await mountOverlay(merged, { lower, cwd: this.dir, ...(upper ? { upper: rel(upper), work: rel(join(base, 'work')) } : {}) });
    } catch (err) {
      done();
      await rm(base, { recursive: true, force: true });
      throw err;
    }
    this.active.add(base);
    let mounted = true;
    const detach = async (): Promise<void> => {
      if (mounted) await unmount(merged);
      mounted = false;
      done();
    };
    return {
      path: merged,
      ...(upper ? { upper, linkRoot: upper } : {}),
      detach,
      release: async () => {
        if (!this.active.delete(base)) return;
        await detach();
        // Once the upper directory is kept or adopted as a snapshot, what is left is a few empty
        // directories: removed at once rather than through turns of the event loop. An upper one left
        // (a failed step's, or a read-only mount's none) may be large: the thread pool removes it.
        if (upper && existsSync(upper)) await rm(base, { recursive: true, force: true });
        else rmSync(base, { recursive: true, force: true });
      },
    };
  }

  /**
   * Removes the snapshots of layers not in `live` (after a prune), except those changed within the last
   * `graceMs` that are not `freed` (a removed record's). Each is first renamed away, so no reader ever
   * finds half of one. Returns how many went.
   */
  async removeExcept(live: Set<Digest>, graceMs = 0, freed: Set<Digest> = new Set()): Promise<number> {
    const keep = new Set([...live].map((d) => this.name(d)));
    const gone = new Set([...freed].map((d) => this.name(d)));
    const now = Date.now();
    let n = 0;
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith('.') || name.startsWith('empty-') || keep.has(name)) continue;
      const path = join(this.dir, name);
      // ctime, not mtime: unpacking sets a snapshot's mtime from its tar, while a rename into place sets ctime.
      const changed = await stat(path).then((st) => st.ctimeMs, () => undefined);
      if (changed === undefined || (!gone.has(name) && now - changed < graceMs)) continue;
      const trash = join(this.dir, `.trash-${process.pid}-${randomBytes(4).toString('hex')}`);
      if (await rename(path, trash).then(() => true, () => false)) {
        await rm(trash, { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }

  /** Unmounts everything this process mounted: for SIGINT and fatal errors. */
  async releaseAll(): Promise<void> {
    for (const base of [...this.active]) {
      this.active.delete(base);
      if (this.overlayWorks) await unmount(join(base, 'merged'));
      await rm(base, { recursive: true, force: true });
    }
  }

  /** Removes mounts left behind by processes that died (kill -9). */
  async cleanStale(): Promise<void> {
    for (const name of readdirSync(this.mountsDir)) {
      const pid = Number(name.split('-')[0]);
      if (pid === process.pid || isAlive(pid)) continue;
      const base = join(this.mountsDir, name);
      await unmount(join(base, 'merged'));
      await rm(base, { recursive: true, force: true });
    }
    for (const name of readdirSync(this.dir)) {
      const pid = Number(name.split('-')[1]);
      if ((name.startsWith('.tmp-') || name.startsWith('.trash-')) && pid !== process.pid && !isAlive(pid)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    // Half-written blobs and layer spools of dead builds: `<kind>-<pid>-<random>`.
    for (const name of existsSync(this.tmpDir) ? readdirSync(this.tmpDir) : []) {
      const pid = Number(name.split('-')[1]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A snapshot kept under a temporary name while its layer's tar is written. */
interface Kept {
  /** Its directory's name now: the temporary one, then its diffID's. */
  at: string;
  /** Mounts using it: it is not moved while any is. */
  users: number;
  diffID?: Digest;
  /** Its tar is over (`diffID` is set unless the tar failed). */
  ended: boolean;
  /** Set once placed: settles when a temporary directory left over is removed. */
  placed?: Promise<void>;
  /** Settles when its tar is over, either way. */
  settled: Promise<void>;
}
