import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Layer } from '../layer.js';
import { runExec } from '../exec/run-step.js';
import { runFile } from '../file/file-step.js';
import { compressSpooled, isEmptyDiff, spoolLayer } from '../layers/layer-writer.js';
import type { MountedRootfs, SnapshotStore } from '../snapshots/snapshot-store.js';
import type { ExecutableStep, StepContext, StepInput, StepOutput, Worker } from '../worker.js';

/** Runs steps in this process: the embedded default, and what each farm worker runs. */
export class LocalWorker implements Worker {
  private readonly cacheMountsDir: string;
  private readonly runcRoot: string;
  private readonly tmpDir: string;

  constructor(
    private readonly blobs: BlobStore,
    private readonly snapshots: SnapshotStore,
    stateDir: string,
  ) {
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
        const { root, parent } = await runFile(step.file, inputs, this.snapshots);
        return this.commit(root, parent, ctx);
      }
    }
  }

  /**
   * Keeps the upper directory as the new layer's snapshot and returns at once; the layer is
   * compressed into the blob store in the background, so later steps need not wait for gzip.
   */
  private async commit(root: MountedRootfs, parent: Layer[], ctx: StepContext): Promise<StepOutput> {
    try {
      if (await isEmptyDiff(root.upper!)) return { layers: parent, emptyLayer: true };
      const { diffID, path } = await spoolLayer(root.upper!, this.tmpDir, ctx.epoch !== undefined ? { epoch: ctx.epoch } : {});
      await this.snapshots.adopt(root.upper!, diffID);
      const record = compressSpooled(path, diffID, this.blobs);
      record.catch(() => undefined); // observed by whoever settles the layer
      return { layers: [...parent, { diffID, record }], emptyLayer: false };
    } finally {
      await root.release();
    }
  }
}
