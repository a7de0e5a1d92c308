import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../oci/digest.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../oci/manifest.js';
import { RegistryClient } from '../oci/registry/client.js';
import { getManifest, putBlob, putManifest } from '../oci/registry/content.js';
import { attachReferrer, fallbackTag, fetchReferrer, listReferrers } from '../oci/registry/referrers.js';
import { startReferrersApiProxy, startRegistry, type ReferrersApiProxy, type TestRegistry } from './registry-helpers.js';

const SBOM = 'application/spdx+json';
const PROVENANCE = 'application/vnd.in-toto+json';

/** A small image pushed to `repo`: one config, one layer, its manifest by digest. */
async function pushImage(client: RegistryClient, repo: string, marker: string): Promise<Descriptor> {
  const config = await putBlob(client, repo, MediaType.ociConfig, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, marker })));
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [] };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return (await putManifest(client, repo, sha256(bytes), MediaType.ociManifest, bytes)).descriptor;
}

const artifact = (type: string, text: string) => ({ artifactType: type, blobs: [{ mediaType: type, data: Buffer.from(text) }], annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z', 'test.kind': text } });

describe('OCI 1.1 referrers', () => {
  let registry: TestRegistry;
  let proxy: ReferrersApiProxy;
  before(async () => {
    registry = await startRegistry();
    proxy = await startReferrersApiProxy(registry.host);
  });
  after(() => {
    proxy?.stop();
    registry?.stop();
  });

  it('keeps the fallback index at sha256-<hex> on a registry without the API (distribution 2.8)', async () => {
    const client = new RegistryClient(registry.host);
    const image = await pushImage(client, 'fb/app', 'fallback');
    const sbom = await attachReferrer(client, 'fb/app', image, artifact(SBOM, 'sbom'));
    const prov = await attachReferrer(client, 'fb/app', image, artifact(PROVENANCE, 'provenance'));
    assert.equal(sbom.via, 'fallback-tag');
    assert.equal(prov.via, 'fallback-tag');
    // Attaching the same artifact again does not list it twice.
    await attachReferrer(client, 'fb/app', image, artifact(SBOM, 'sbom'));

    const raw = await getManifest(client, 'fb/app', `sha256-${image.digest.slice(7)}`);
    assert.ok(raw, 'the fallback tag exists');
    assert.equal(raw.mediaType, MediaType.ociIndex);
    const index = JSON.parse(raw.bytes.toString()) as ImageIndex;
    assert.deepEqual(index.manifests.map((d) => [d.digest, d.artifactType, d.annotations?.['test.kind']]), [
      [sbom.descriptor.digest, SBOM, 'sbom'],
      [prov.descriptor.digest, PROVENANCE, 'provenance'],
    ]);

    assert.deepEqual((await listReferrers(client, 'fb/app', image.digest)).map((d) => d.digest), [sbom.descriptor.digest, prov.descriptor.digest]);
    assert.deepEqual((await listReferrers(client, 'fb/app', image.digest, PROVENANCE)).map((d) => d.digest), [prov.descriptor.digest]);

    const fetched = await fetchReferrer(client, 'fb/app', prov.descriptor);
    assert.deepEqual(fetched.manifest.subject, { mediaType: image.mediaType, digest: image.digest, size: image.size });
    assert.equal(fetched.manifest.artifactType, PROVENANCE);
    assert.equal(fetched.manifest.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(fetched.manifest.config.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    assert.deepEqual(fetched.blobs.map((b) => b.toString()), ['provenance']);
  });

  it('an image without referrers lists none', async () => {
    const client = new RegistryClient(registry.host);
    const image = await pushImage(client, 'fb/none', 'none');
    assert.deepEqual(await listReferrers(client, 'fb/none', image.digest), []);
  });

  it('uses the referrers API where the registry has it, and writes no fallback tag', async () => {
    const viaProxy = new RegistryClient(proxy.host);
    const direct = new RegistryClient(registry.host);
    const image = await pushImage(viaProxy, 'api/app', 'api');
    const sbom = await attachReferrer(viaProxy, 'api/app', image, artifact(SBOM, 'sbom'));
    const prov = await attachReferrer(viaProxy, 'api/app', image, artifact(PROVENANCE, 'provenance'));
    assert.equal(sbom.via, 'api');
    assert.equal(prov.via, 'api');
    assert.equal(await getManifest(direct, 'api/app', fallbackTag(image.digest)), undefined, 'no fallback tag on the registry behind the API');
    const before = await proxy.queries();
    assert.deepEqual((await listReferrers(viaProxy, 'api/app', image.digest, SBOM)).map((d) => [d.digest, d.artifactType, d.annotations?.['test.kind']]), [[sbom.descriptor.digest, SBOM, 'sbom']]);
    assert.ok((await proxy.queries()) > before, 'listing asked the referrers API');
    // The registry behind it has the artifact itself, with its subject.
    const fetched = await fetchReferrer(direct, 'api/app', sbom.descriptor);
    assert.equal(fetched.manifest.subject?.digest, image.digest);
  });
});
