/**
 * Push and pull throughput of a 1 GB image (4 layers of 256 MB) on loopback, Dockyard against
 * `skopeo copy` of the same blobs in the same run, to a real docker-registry. Medians of 3 runs.
 * Run: `npm run bench:registry` (needs docker-registry and skopeo: bash scripts/setup.sh).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { putBlob, type BlobStore } from '../cache/blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { MediaType, type Descriptor, type ImageManifest } from '../oci/manifest.js';
import { Registries, RegistryImages } from '../coordinator/registry/registry-images.js';
import { pushImage } from '../coordinator/registry/push.js';
import type { BuiltImage } from '../coordinator/export/image-assembler.js';
import { tempDir } from '../test/helpers.js';
import { startRegistry } from '../test/registry-helpers.js';

const LAYERS = 4;
const LAYER_SIZE = 256 << 20;
const RUNS = 3;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function makeImage(store: BlobStore): Promise<BuiltImage> {
  const layers = [];
  for (let i = 0; i < LAYERS; i++) {
    const w = store.writer();
    for (let off = 0; off < LAYER_SIZE; off += 16 << 20) w.write(randomBytes(16 << 20));
    const { digest, size } = await w.commit();
    layers.push({ digest, diffID: digest, size, mediaType: MediaType.ociLayerGzip });
  }
  const config = await putBlob(store, JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) } }));
  const configDesc: Descriptor = { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size };
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })) };
  const m = await putBlob(store, JSON.stringify(manifest));
  return { platform: 'linux/amd64', manifest: { mediaType: MediaType.ociManifest, digest: m.digest, size: m.size }, config: configDesc, layers };
}

async function writeLayout(dir: string, store: BlobStore, img: BuiltImage): Promise<void> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const d of [img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest)]) await store.exportTo(d, join(dir, 'blobs', 'sha256', d.slice(7)));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...img.manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
}

const seconds = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

async function main(): Promise<void> {
  const work = tempDir('registry-bench');
  const store = new FsBlobStore(join(work, 'store'));
  const img = await makeImage(store);
  const layout = join(work, 'layout');
  await writeLayout(layout, store, img);
  const gb = (LAYERS * LAYER_SIZE) / 1e9;
  const rows: Record<string, number[]> = { 'dockyard push': [], 'skopeo push': [], 'dockyard pull': [], 'skopeo pull': [] };
  for (let run = 0; run < RUNS; run++) {
    // A fresh registry each run: every blob is really uploaded.
    const a = await startRegistry();
    const b = await startRegistry();
    rows['dockyard push']!.push(await seconds(() => pushImage(new Registries(), [img], img.manifest, [`${a.host}/bench/app:1`], store, false)));
    rows['skopeo push']!.push(await seconds(() => spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:bench`, `docker://${b.host}/bench/app:1`])));
    const pullStore = new FsBlobStore(join(work, `pull-${run}`));
    const images = new RegistryImages(new Registries(), pullStore);
    rows['dockyard pull']!.push(await seconds(async () => {
      const r = await images.resolve(`${a.host}/bench/app:1`, { os: 'linux', architecture: 'amd64' });
      await images.pull(`${a.host}/bench/app:1`, r.digest);
    }));
    rows['skopeo pull']!.push(await seconds(() => spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${b.host}/bench/app:1`, `oci:${join(work, `skopeo-pull-${run}`)}:bench`])));
    a.stop();
    b.stop();
  }
  console.log(`registry: ${gb.toFixed(2)} GB image (${LAYERS} layers), loopback docker-registry, medians of ${RUNS} runs`);
  for (const [name, xs] of Object.entries(rows)) console.log(`  ${name.padEnd(14)} ${median(xs).toFixed(2)} s  ${(gb * 1000 / median(xs)).toFixed(0)} MB/s`);
  console.log(`  dockyard/skopeo time ratio: push ${(median(rows['dockyard push']!) / median(rows['skopeo push']!)).toFixed(2)}, pull ${(median(rows['dockyard pull']!) / median(rows['skopeo pull']!)).toFixed(2)} (below 1 = dockyard faster)`);
  process.exit(0);
}

await main();
