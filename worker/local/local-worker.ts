import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore } from '../../cache/blob-store.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { Layer } from '../layer.js';
import { runExec } from '../exec/run-step.js';
import { runFile } from '../file/file-step.js';
import { CopyLinks } from '../file/copy-links.js';
import type { GzipMemberHints } from '../layers/gzip-member-hints.js';
import { isEmptyDiff, spoolCompressed, storeUncompressed } from '../layers/layer-writer.js';
import type { MountedRootfs, SnapshotStore } from '../snapshots/snapshot-store.js';
import type { ExecutableStep, StepContext, StepInput, StepOutput, Worker } from '../worker.js';
import type { Digest } from '../../oci/digest.js';
import { trace } from '../../oci/trace.js';

/**
 * When a step returns. Either way the layers of steps marked `exported` are gzip-compressed, and the
 * others stored uncompressed in the same pass that computes the diffID: an export compresses one of
 * those only if it needs it, as BuildKit compresses at export. `eager`: once the layer's tar is
 * written (a farm worker, which reports the layer's diffID). `lazy`: before that, the tar written
 * while later steps run on the snapshot (the embedded engine, whose steps run in one process).
 */
export type LayerWrites = 'eager' | 'lazy';

export interface LocalWorkerOptions {
  layerWrites?: LayerWrites;
  /**
   * Hard-link files a COPY takes unchanged from a local directory from the snapshot of an earlier
   * copy (`file/copy-links.ts`): for the embedded engine, whose contexts persist between builds.
   */
  linkUnchanged?: boolean;
  /** How old a source file's last change must be before a copy of it is reused (default 2 s; tests use 0). */
  settledMs?: number;
  /** Where earlier layers' gzip members lie: a layer compressed again reuses those of unchanged chunks. */
  gzipMembers?: GzipMemberHints;
}

/** Runs steps in this process: the embedded default, and what each farm worker runs. */
export class LocalWorker implements Worker {
  private readonly cacheMountsDir: string;
  private readonly runcRoot: string;
  private readonly tmpDir: string;
  private readonly layerWrites: LayerWrites;
  private readonly links?: CopyLinks;
  private readonly gzipMembers?: GzipMemberHints;

  constructor(
    private readonly blobs: BlobStore,
    private readonly snapshots: SnapshotStore,
    stateDir: string,
    opts: LocalWorkerOptions = {},
  ) {
    this.layerWrites = opts.layerWrites ?? 'eager';
    if (opts.linkUnchanged) this.links = new CopyLinks(stateDir, opts.settledMs);
    if (opts.gzipMembers) this.gzipMembers = opts.gzipMembers;
    this.cacheMountsDir = join(stateDir, 'cache-mounts');
    this.runcRoot = join(stateDir, 'runc');
    this.tmpDir = join(stateDir, 'tmp');
    for (const d of [this.cacheMountsDir, this.runcRoot, this.tmpDir]) mkdirSync(d, { recursive: true });
  }

  async execute(step: ExecutableStep, inputs: StepInput[], ctx: StepContext): Promise<StepOutput> {
    switch (step.kind) {
      case 'merge': {
        // --link: the inputs' layers stacked in order, nothing to run.
        const layers: Layer[] = [];
        for (const input of inputs) if (input.type === 'rootfs') layers.push(...input.layers);
        return { layers, emptyLayer: false };
      }
      case 'exec': {
        const { root, parent } = await runExec(step.exec, step.platform, inputs, ctx, {
          snapshots: this.snapshots,
          cacheMountsDir: this.cacheMountsDir,
          runcRoot: this.runcRoot,
          tmpDir: this.tmpDir,
        });
        return this.commit(root, parent, ctx);
      }
      case 'file': {
        const { root, parent, copied } = await runFile(step.file, inputs, this.snapshots, this.links);
        const links = this.links;
        // The copies are remembered where their snapshot is named: its diffID's directory.
        const named = links && copied.size > 0 ? (diffID: Digest) => copied.forEach((files, dir) => links.remember(dir, this.snapshots.path(diffID), files)) : undefined;
        return this.commit(root, parent, ctx, named);
      }
    }
  }

  /**
   * Keeps the upper directory as the new layer's snapshot, its tar written to the blob store
   * uncompressed for a layer no image needs, gzip-compressed for one an image does (the blob
   * compressed in the background). With `lazy` writes the step returns at once, and later steps
   * run on the snapshot while its tar is written; with `eager` once the tar is written. `named`
   * learns the diffID as soon as it is known.
   */
  private async commit(root: MountedRootfs, parent: Layer[], ctx: StepContext, named?: (diffID: Digest) => void): Promise<StepOutput> {
    try {
      if (await isEmptyDiff(root.upper!)) return { layers: parent, emptyLayer: true };
      const opts = ctx.epoch !== undefined ? { epoch: ctx.epoch } : {};
      // The tar, whose diffID names the snapshot; the blob is stored (synced, or compressed) after it.
      const write = async (dir: string): Promise<{ diffID: Digest; record: Promise<LayerRecord> }> => {
        trace('layer: tar start');
        const made = await (ctx.exported ? spoolCompressed(dir, this.tmpDir, this.blobs, this.gzipMembers, opts) : storeUncompressed(dir, this.blobs, opts));
        trace('layer: tar written');
        named?.(made.diffID);
        // Failures are observed by whoever settles the layer.
        made.record.then(() => trace(`layer: stored ${made.diffID}`), () => undefined);
        return made;
      };
      if (this.layerWrites === 'lazy') {
        const { snapshot, described } = this.snapshots.keep(root.upper!, write);
        const record = described.then((s) => s.record);
        record.catch(() => undefined); // observed by whoever settles the layer
        return { layers: [...parent, { snapshot, record }], emptyLayer: false };
      }
      const { diffID, record } = await write(root.upper!);
      await this.snapshots.adopt(root.upper!, diffID);
      return { layers: [...parent, { diffID, record }], emptyLayer: false };
    } finally {
      await root.release();
    }
  }
}
