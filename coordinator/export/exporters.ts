import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { parseReference } from '../../oci/reference.js';
import { tarDiff } from '../../worker/layers/layer-writer.js';
import { runCommand } from '../../worker/system/command.js';
import type { Progress } from '../progress/progress.js';
import { pushImage } from '../registry/push.js';
import type { Registries } from '../registry/registry-images.js';
import { blobsOf, type BuiltImage } from './image-assembler.js';
import { ensureParent, writeLayoutDir, writeLayoutTar } from './oci-layout-writer.js';
import type { OutputSpec } from './output-spec.js';
import type { RootfsSource } from './rootfs-source.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { attachAttestations } from '../attest/attach.js';
import { attestationArtifact, storeArtifact, type ImageAttestations } from '../attest/attestations.js';

export class ExportError extends ExpectedError {}

export interface ExportInput {
  images: BuiltImage[];
  top: Descriptor;
  tags: string[];
  blobs: BlobStore;
  /** The final filesystem, for `local` and `tar` outputs. */
  rootfs: RootfsSource;
  progress: Progress;
  registries: Registries;
  /** `--provenance`/`--sbom` statements per platform image; absent when none were asked for. */
  attestations?: ImageAttestations[];
}

/** Where `type=local` puts each statement, as BuildKit's local exporter names them. */
const ATTESTATION_FILES = { provenance: 'provenance.json', sbom: 'sbom.spdx.json' } as const;

/** The attestations as artifact manifests in the blob store, for image layouts: descriptors for index.json, and their blobs. */
async function layoutReferrers(x: ExportInput): Promise<{ referrers: Descriptor[]; blobs: Digest[] }> {
  const referrers: Descriptor[] = [];
  const blobs: Digest[] = [];
  for (const { image, attestations, signer } of x.attestations ?? []) {
    for (const a of attestations) {
      const stored = await storeArtifact(x.blobs, image.manifest, await attestationArtifact(a, signer));
      referrers.push(stored.descriptor);
      blobs.push(...stored.blobs);
    }
  }
  return { referrers, blobs };
}

/** `repo:tag` as docker load lists it: `app:1`, `registry:5000/team/app:1`. */
function familiar(tag: string): string {
  const ref = parseReference(tag);
  const repo = ref.domain === 'docker.io' ? ref.path.replace(/^library\//, '') : `${ref.domain}/${ref.path}`;
  return `${repo}:${ref.tag ?? 'latest'}`;
}

/** The final filesystem of a single-platform result, readable for the duration of `fn`. */
async function withRootfs<T>(x: ExportInput, what: string, fn: (dir: string) => Promise<T>): Promise<T> {
  if (x.images.length !== 1) throw new ExportError(`--output type=${what} takes one platform; this build has ${x.images.length} (build them one at a time, or use type=oci)`);
  const mounted = await x.rootfs(x.images[0]!.layers);
  try {
    return await fn(mounted.path);
  } finally {
    await mounted.release();
  }
}

export async function exportOutputs(outputs: OutputSpec[], x: ExportInput): Promise<void> {
  for (const out of outputs) {
    const id = x.progress.start(`exporting to ${out.type === 'image' ? 'image' : `${out.type} ${out.dest}`}`);
    try {
      switch (out.type) {
        case 'oci': {
          const extra = await layoutReferrers(x);
          const content = { top: x.top, tags: x.tags, blobs: [...new Set([...blobsOf(x.images, x.images.length > 1 ? x.top : undefined), ...extra.blobs])], referrers: extra.referrers };
          if (out.tar) {
            await ensureParent(out.dest);
            await writeLayoutTar(out.dest, content, x.blobs);
          } else await writeLayoutDir(out.dest, content, x.blobs);
          break;
        }
        case 'docker': {
          if (x.images.length !== 1) throw new ExportError('docker load cannot take a multi-platform image (an index): use --output type=oci, or build one --platform');
          const img = x.images[0]!;
          const dockerManifest = [{ Config: `blobs/sha256/${img.config.digest.slice(7)}`, RepoTags: x.tags.map(familiar), Layers: img.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }];
          // The archive is an OCI layout as well: attestations go in there, which docker load ignores.
          const extra = await layoutReferrers(x);
          await ensureParent(out.dest);
          await writeLayoutTar(out.dest, { top: x.top, tags: x.tags, blobs: [...new Set([...blobsOf(x.images), ...extra.blobs])], dockerManifest, referrers: extra.referrers }, x.blobs);
          break;
        }
        case 'local':
          await withRootfs(x, 'local', async (dir) => {
            await mkdir(out.dest, { recursive: true });
            await runCommand('cp', ['-a', `${dir}/.`, out.dest]);
            for (const a of x.attestations?.[0]?.attestations ?? []) await writeFile(join(out.dest, ATTESTATION_FILES[a.kind]), a.statement);
          });
          break;
        case 'tar':
          if (x.attestations?.some((a) => a.attestations.length > 0)) throw new ExportError('--output type=tar cannot carry --provenance/--sbom attestations: use type=local (they are written beside the files) or type=oci');
          await withRootfs(x, 'tar', async (dir) => {
            await ensureParent(out.dest);
            const sink = out.dest === '-' ? process.stdout : createWriteStream(out.dest + '.tmp');
            await pipeline(tarDiff(dir) as unknown as NodeJS.ReadableStream, sink);
            if (out.dest !== '-') await rename(out.dest + '.tmp', out.dest);
          });
          break;
        case 'image': {
          if (!out.push) throw new ExportError('there is no image store without a daemon: add push=true, or use --output type=oci or type=docker');
          const names = out.names.length > 0 ? out.names : x.tags;
          const c = await pushImage(x.registries, x.images, x.top, names, x.blobs, out.pushByDigest);
          x.progress.note(id, `pushed ${c.repos.join(', ')}: ${c.uploaded} blobs uploaded, ${c.mounted} mounted, ${c.skipped} already there`);
          if (x.attestations) x.progress.note(id, `attached ${await attachAttestations(x.registries, names, x.attestations)} attestations as referrers`);
          break;
        }
      }
      x.progress.done(id);
    } catch (err) {
      x.progress.error(id, (err as Error).message);
      throw err;
    }
  }
}
