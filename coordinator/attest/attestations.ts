import { putBlob, type BlobStore } from '../../cache/blob-store.js';
import type { Digest } from '../../oci/digest.js';
import { MediaType, type Descriptor, type ImageManifest } from '../../oci/manifest.js';
import type { Artifact } from '../../oci/registry/referrers.js';
import type { LayerRecord } from '../../cache/cache-index.js';
import type { BuildPlan } from '../plan/plan-types.js';
import { imageSubjects, IN_TOTO_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, statement } from './in-toto.js';
import { scanImage } from './image-scan.js';
import type { AttestOptions } from './attest-options.js';
import { BUNDLE_CONTENT_ANNOTATION, BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, IN_TOTO_PAYLOAD_TYPE, signedBundle } from '../../oci/signing/sigstore-bundle.js';
import type { Signer } from '../../oci/signing/signer.js';
import { provenancePredicate, SLSA_PROVENANCE_V1, type ProvenanceRun } from './provenance.js';
import { SPDX_PREDICATE_TYPE, spdxDocument } from './spdx.js';


export const wantsAttestations = (o: AttestOptions | undefined): o is AttestOptions => o !== undefined && (o.provenance !== undefined || o.sbom);

/** One in-toto statement about one platform's image. */
export interface Attestation {
  kind: 'provenance' | 'sbom';
  predicateType: string;
  /** The statement's JSON bytes, as stored. */
  statement: Buffer;
}

/** What attesting needs of a built image (the exporter's `BuiltImage` has this shape). */
export interface AttestedImage {
  platform: string;
  manifest: Descriptor;
  layers: readonly LayerRecord[];
}

export interface ImageAttestations {
  image: AttestedImage;
  attestations: Attestation[];
  /** `--sign --key`: each attestation is stored as a signed Sigstore bundle. */
  signer?: Signer;
}

/** What the statements say beyond the plan: the run's facts. */
export interface AttestContext {
  plan: BuildPlan;
  tags: readonly string[];
  blobs: BlobStore;
  /** `dockyard-<version>`, the SBOM's creator. */
  tool: string;
  /** The SBOM's creation time (SOURCE_DATE_EPOCH when set). */
  created: Date;
  /** Everything but the mode and builder id, which come from `--provenance`. */
  run: Omit<ProvenanceRun, 'mode' | 'builderId'>;
  defaultBuilderId: string;
  signer?: Signer;
}

/**
 * The provenance and SBOM statements of each platform's image (`images` parallel to the plan's
 * targets). The SBOM reads the image's own layers from the store, so it lists what the image holds.
 */
export async function attestImages(images: readonly AttestedImage[], opts: AttestOptions, ctx: AttestContext): Promise<ImageAttestations[]> {
  const out: ImageAttestations[] = [];
  for (const [i, image] of images.entries()) {
    const target = ctx.plan.targets[i]!;
    const subjects = imageSubjects(ctx.tags, image.manifest.digest, image.platform);
    const attestations: Attestation[] = [];
    if (opts.provenance) {
      const run: ProvenanceRun = { ...ctx.run, mode: opts.provenance.mode, builderId: opts.provenance.builderId ?? ctx.defaultBuilderId };
      const s = statement(subjects, SLSA_PROVENANCE_V1, provenancePredicate(ctx.plan, target, run));
      attestations.push({ kind: 'provenance', predicateType: SLSA_PROVENANCE_V1, statement: Buffer.from(JSON.stringify(s)) });
    }
    if (opts.sbom) {
      const scan = await scanImage(image.layers, ctx.blobs);
      const name = ctx.tags[0] ?? image.manifest.digest;
      const doc = spdxDocument(scan, { name, digest: image.manifest.digest, platform: image.platform, created: ctx.created.toISOString(), tool: ctx.tool });
      const s = statement(subjects, SPDX_PREDICATE_TYPE, doc);
      attestations.push({ kind: 'sbom', predicateType: SPDX_PREDICATE_TYPE, statement: Buffer.from(JSON.stringify(s)) });
    }
    out.push({ image, attestations, ...(ctx.signer ? { signer: ctx.signer } : {}) });
  }
  return out;
}

/**
 * An attestation as an OCI 1.1 artifact: the statement is its one layer, the predicate type annotated
 * on both. With a signer, the layer is a Sigstore bundle whose DSSE envelope signs the statement,
 * annotated as `cosign attest` annotates it (cosign verify-attestation reads it).
 */
export async function attestationArtifact(a: Attestation, signer?: Signer): Promise<Artifact> {
  const annotations = { [PREDICATE_TYPE_ANNOTATION]: a.predicateType };
  if (!signer) return { artifactType: IN_TOTO_MEDIA_TYPE, blobs: [{ mediaType: IN_TOTO_MEDIA_TYPE, data: a.statement, annotations }], annotations };
  const bundle = await signedBundle(signer, IN_TOTO_PAYLOAD_TYPE, a.statement);
  const signed = { ...annotations, [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope', [BUNDLE_PREDICATE_ANNOTATION]: a.predicateType };
  return { artifactType: BUNDLE_MEDIA_TYPE, blobs: [{ mediaType: BUNDLE_MEDIA_TYPE, data: bundle }], annotations: signed };
}

const EMPTY_CONFIG = '{}';

/**
 * The same artifact manifest `attachReferrer` pushes, written into the blob store instead, for outputs
 * without a registry (OCI layouts): returns its descriptor (with artifactType and annotations, as an
 * index lists a referrer) and every blob it needs.
 */
export async function storeArtifact(blobs: BlobStore, subject: Descriptor, artifact: Artifact): Promise<{ descriptor: Descriptor; blobs: Digest[] }> {
  const config = await putBlob(blobs, EMPTY_CONFIG);
  const layers: Descriptor[] = [];
  for (const b of artifact.blobs) {
    const info = await putBlob(blobs, b.data);
    layers.push({ mediaType: b.mediaType, digest: info.digest, size: info.size, ...(b.annotations ? { annotations: b.annotations } : {}) });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: artifact.artifactType,
    config: { mediaType: MediaType.ociEmpty, digest: config.digest, size: config.size },
    layers,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
  };
  const info = await putBlob(blobs, JSON.stringify(manifest));
  return {
    descriptor: { mediaType: MediaType.ociManifest, digest: info.digest, size: info.size, artifactType: artifact.artifactType, ...(artifact.annotations ? { annotations: artifact.annotations } : {}) },
    blobs: [info.digest, config.digest, ...layers.map((l) => l.digest)],
  };
}
