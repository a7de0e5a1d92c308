import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers.js';
import { startReferrersApiProxy, startRegistry, type ReferrersApiProxy, type TestRegistry } from './registry-helpers.js';
import { corpusKeyFile, cosignCorpus, generatedKeyPair, opensslVerify, PASSWORD, registryGet, registryPushBlob, registryPut, sigstoreVerify } from './signing-helpers.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SIG_ANNOTATION = 'dev.cosignproject.cosign/signature';

interface Manifest {
  mediaType: string;
  artifactType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
  subject?: { digest: string };
  annotations?: Record<string, string>;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A small image pushed with plain HTTP, tagged `tag`; its manifest carries `"marker":"<marker>"`. */
async function pushImage(host: string, repo: string, tag: string, marker: string): Promise<{ digest: string; bytes: Buffer }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  await registryPushBlob(host, repo, config);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: [], annotations: { marker } }));
  await registryPut(host, `/v2/${repo}/manifests/${tag}`, OCI_MANIFEST, bytes);
  return { digest: sha(bytes), bytes };
}

const json = <T>(b: Buffer): T => JSON.parse(b.toString()) as T;
const sigTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;

/** The legacy signature manifest, and each layer's payload. */
async function legacy(host: string, repo: string, digest: string): Promise<{ manifest: Manifest; payloads: Buffer[] }> {
  const manifest = json<Manifest>(await registryGet(host, `/v2/${repo}/manifests/${sigTag(digest)}`));
  const payloads = await Promise.all(manifest.layers.map((l) => registryGet(host, `/v2/${repo}/blobs/${l.digest}`, '*/*')));
  return { manifest, payloads };
}

/** The bundle referrers of `digest` from the fallback tag, with each one's manifest and bundle. */
async function bundles(host: string, repo: string, digest: string): Promise<{ descriptor: { digest: string; artifactType?: string; annotations?: Record<string, string> }; manifest: Manifest; bundle: Buffer }[]> {
  const index = json<{ manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[] }>(await registryGet(host, `/v2/${repo}/manifests/${digest.replace(':', '-')}`));
  return Promise.all(
    index.manifests
      .filter((d) => d.artifactType === BUNDLE)
      .map(async (descriptor) => {
        const manifest = json<Manifest>(await registryGet(host, `/v2/${repo}/manifests/${descriptor.digest}`));
        return { descriptor, manifest, bundle: await registryGet(host, `/v2/${repo}/blobs/${manifest.layers[0]!.digest}`, '*/*') };
      }),
  );
}

/** Replaces the `.sig` manifest with one whose only layer is `payload` carrying `signature`. */
async function rewriteLegacy(host: string, repo: string, digest: string, payload: Buffer, signature: string, config: Manifest['config']): Promise<void> {
  await registryPushBlob(host, repo, payload);
  const m = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha(payload), size: payload.length, annotations: { [SIG_ANNOTATION]: signature } }] };
  await registryPut(host, `/v2/${repo}/manifests/${sigTag(digest)}`, OCI_MANIFEST, Buffer.from(JSON.stringify(m)));
}

/** `b` with one bit of the byte at `at` flipped. */
function flipByte(b: Buffer, at = Math.floor(b.length / 2)): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0x01;
  return c;
}

describe('signing and verifying pushed images', () => {
  let registry: TestRegistry;
  let proxy: ReferrersApiProxy;
  let keys: ReturnType<typeof generatedKeyPair>;
  const env = { COSIGN_PASSWORD: PASSWORD };
  const verify = (ref: string, ...extra: string[]) => runCli(['verify', '--key', keys.pub, ...extra, ref]);
  const signed = async (repo: string, marker: string): Promise<{ ref: string; digest: string; bytes: Buffer }> => {
    const img = await pushImage(registry.host, repo, 'v1', marker);
    const r = runCli(['sign', '--key', keys.key, `${registry.host}/${repo}@${img.digest}`], { env });
    assert.equal(r.status, 0, r.stderr);
    return { ref: `${registry.host}/${repo}:v1`, ...img };
  };

  before(async () => {
    registry = await startRegistry();
    proxy = await startReferrersApiProxy(registry.host);
    keys = generatedKeyPair();
  });
  after(() => {
    proxy?.stop();
    registry?.stop();
  });

  it('sign writes both formats, and verify, openssl and @sigstore/verify accept them', async () => {
    const img = await pushImage(registry.host, 'app', 'v1', 'first');
    const s = runCli(['sign', '--key', keys.key, `${registry.host}/app:v1`], { env });
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr, /WARNING: .*app:v1 names a tag, not a digest/);
    const name = `${registry.host}/app@${img.digest}`;
    assert.match(s.stdout, new RegExp(`^signed ${name}: legacy signature at ${registry.host}/app:${sigTag(img.digest)}\\nsigned ${name}: Sigstore bundle sha256:[0-9a-f]{64} \\(referrers tag ${img.digest.replace(':', '-')}\\)\\n$`));

    const v = verify(`${registry.host}/app:v1`);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, new RegExp(`^verified ${name}: legacy cosign signature \\(${sigTag(img.digest)} layer 1\\)\\nverified ${name}: Sigstore bundle \\(bundle referrer sha256:[0-9a-f]{64}\\)\\n$`));

    // Legacy: cosign's payload, byte for byte, and openssl verifies the annotation's DER over it.
    const { manifest, payloads } = await legacy(registry.host, 'app', img.digest);
    assert.equal(manifest.mediaType, OCI_MANIFEST);
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), ['application/vnd.dev.cosign.simplesigning.v1+json']);
    assert.equal(payloads[0]!.toString(), `{"critical":{"identity":{"docker-reference":"${registry.host}/app"},"image":{"docker-manifest-digest":"${img.digest}"},"type":"cosign container image signature"},"optional":null}`);
    assert.deepEqual(opensslVerify(keys.pub, payloads[0]!, Buffer.from(manifest.layers[0]!.annotations![SIG_ANNOTATION]!, 'base64')), { ok: true, output: 'Verified OK' });

    // Bundle: a referrer of the image, as cosign 3 writes it, that @sigstore/verify accepts with our key.
    const [b, ...more] = await bundles(registry.host, 'app', img.digest);
    assert.equal(more.length, 0);
    assert.equal(b!.manifest.artifactType, BUNDLE);
    assert.equal(b!.manifest.subject?.digest, img.digest);
    assert.equal(b!.descriptor.annotations?.['dev.sigstore.bundle.predicateType'], 'https://sigstore.dev/cosign/sign/v1');
    assert.equal(b!.descriptor.annotations?.['dev.sigstore.bundle.content'], 'dsse-envelope');
    sigstoreVerify(b!.bundle, keys.pub);
    const bundle = json<{ mediaType: string; dsseEnvelope: { payload: string; payloadType: string } }>(b!.bundle);
    assert.equal(bundle.mediaType, BUNDLE);
    assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
    assert.deepEqual(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()), { _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: img.digest.slice(7) } }], predicateType: 'https://sigstore.dev/cosign/sign/v1', predicate: {} });
  });

  it('a second signature appends a layer to the .sig manifest', async () => {
    const img = await signed('twice', 'twice');
    const r = runCli(['sign', '--key', keys.key, '--signature-format', 'legacy', `${registry.host}/twice@${img.digest}`], { env });
    assert.equal(r.status, 0, r.stderr);
    const { manifest, payloads } = await legacy(registry.host, 'twice', img.digest);
    assert.equal(manifest.layers.length, 2);
    for (const [i, l] of manifest.layers.entries()) assert.equal(opensslVerify(keys.pub, payloads[i]!, Buffer.from(l.annotations![SIG_ANNOTATION]!, 'base64')).ok, true);
    const v = verify(img.ref, '--signature-format', 'legacy');
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.split('\n').filter(Boolean).length, 2);
  });

  it("signs with cosign's own test key, verified with its public key", async () => {
    const img = await pushImage(registry.host, 'corpus', 'v1', 'corpus');
    const key = corpusKeyFile('sigstore-labeled', 'ENCRYPTED SIGSTORE PRIVATE KEY');
    const r = runCli(['sign', '--key', key, `${registry.host}/corpus@${img.digest}`], { env: { COSIGN_PASSWORD: 'hello' } });
    assert.equal(r.status, 0, r.stderr);
    const v = runCli(['verify', '--key', `${cosignCorpus()}/sigstore-labeled.pub`, `${registry.host}/corpus:v1`]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(verify(`${registry.host}/corpus:v1`).status, 1, 'our own key does not verify it');
  });

  it('fails in one line for an unsigned image and for another key', async () => {
    const img = await pushImage(registry.host, 'unsigned', 'v1', 'unsigned');
    const u = verify(`${registry.host}/unsigned:v1`);
    assert.equal(u.status, 1);
    assert.equal(u.stderr, `error: ${registry.host}/unsigned:v1: no signature found for ${img.digest}\n`);
    await signed('otherkey', 'otherkey');
    const other = generatedKeyPair();
    const o = runCli(['verify', '--key', other.pub, `${registry.host}/otherkey:v1`]);
    assert.equal(o.status, 1);
    assert.match(o.stderr, /^error: .*otherkey:v1: no valid signature for .*cosign\.pub \(2 checked; sha256-[0-9a-f]{64}\.sig layer 1: the signature does not verify with the key\)\n$/);
  });

  it('a changed byte of the legacy payload fails verification', async () => {
    const img = await signed('tamper-payload', 'tamper-payload');
    const { manifest, payloads } = await legacy(registry.host, 'tamper-payload', img.digest);
    const changed = flipByte(payloads[0]!, payloads[0]!.indexOf('cosign container') + 1);
    await rewriteLegacy(registry.host, 'tamper-payload', img.digest, changed, manifest.layers[0]!.annotations![SIG_ANNOTATION]!, manifest.config);
    assert.equal(opensslVerify(keys.pub, changed, Buffer.from(manifest.layers[0]!.annotations![SIG_ANNOTATION]!, 'base64')).ok, false);
    const v = verify(img.ref, '--signature-format', 'legacy');
    assert.equal(v.status, 1);
    assert.match(v.stderr, /^error: .*: no valid legacy signature for .* \(1 checked; sha256-[0-9a-f]{64}\.sig layer 1: the signature does not verify with the key\)\n$/);
  });

  it('a changed byte of the signature annotation fails verification', async () => {
    const img = await signed('tamper-sig', 'tamper-sig');
    const { manifest, payloads } = await legacy(registry.host, 'tamper-sig', img.digest);
    const der = flipByte(Buffer.from(manifest.layers[0]!.annotations![SIG_ANNOTATION]!, 'base64'), 40);
    await rewriteLegacy(registry.host, 'tamper-sig', img.digest, payloads[0]!, der.toString('base64'), manifest.config);
    assert.equal(opensslVerify(keys.pub, payloads[0]!, der).ok, false);
    const v = verify(img.ref, '--signature-format', 'legacy');
    assert.equal(v.status, 1);
    assert.match(v.stderr, /layer 1: the signature does not verify with the key\)\n$/);
  });

  it('a changed byte of the bundle payload fails verification', async () => {
    const img = await signed('tamper-bundle', 'tamper-bundle');
    const [b] = await bundles(registry.host, 'tamper-bundle', img.digest);
    const parsed = json<{ dsseEnvelope: { payload: string } }>(b!.bundle);
    const payload = Buffer.from(parsed.dsseEnvelope.payload, 'base64');
    parsed.dsseEnvelope.payload = flipByte(payload, payload.indexOf('sha256') + 12).toString('base64');
    const tampered = Buffer.from(JSON.stringify(parsed));
    assert.throws(() => sigstoreVerify(tampered, keys.pub), /signature verification failed/);
    // The referrer now holds the changed bundle: a new blob, a new manifest, the fallback index pointing at it.
    const blob = await registryPushBlob(registry.host, 'tamper-bundle', tampered);
    const manifest = { ...b!.manifest, schemaVersion: 2, layers: [{ ...b!.manifest.layers[0]!, digest: blob, size: tampered.length }] };
    const mBytes = Buffer.from(JSON.stringify(manifest));
    await registryPut(registry.host, `/v2/tamper-bundle/manifests/${sha(mBytes)}`, OCI_MANIFEST, mBytes);
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...b!.descriptor, mediaType: OCI_MANIFEST, digest: sha(mBytes), size: mBytes.length }] };
    await registryPut(registry.host, `/v2/tamper-bundle/manifests/${img.digest.replace(':', '-')}`, OCI_INDEX, Buffer.from(JSON.stringify(index)));
    const v = verify(img.ref, '--signature-format', 'bundle');
    assert.equal(v.status, 1);
    assert.match(v.stderr, /^error: .*: no valid Sigstore bundle signature for .* \(1 checked; bundle referrer sha256:[0-9a-f]{64}: the DSSE signature does not verify with this key\)\n$/);
  });

  it("a changed byte of the image's manifest fails verification, even with the signatures copied over", async () => {
    const img = await signed('tamper-image', 'a');
    const changed = Buffer.from(img.bytes.toString().replace('"marker":"a"', '"marker":"b"'));
    assert.equal(changed.length, img.bytes.length);
    await registryPut(registry.host, '/v2/tamper-image/manifests/v1', OCI_MANIFEST, changed);
    const none = verify(img.ref);
    assert.equal(none.status, 1);
    assert.equal(none.stderr, `error: ${img.ref}: no signature found for ${sha(changed)}\n`);
    // Signatures copied to the new digest's tags still name the old digest.
    const sig = await registryGet(registry.host, `/v2/tamper-image/manifests/${sigTag(img.digest)}`);
    await registryPut(registry.host, `/v2/tamper-image/manifests/${sigTag(sha(changed))}`, OCI_MANIFEST, sig);
    const index = await registryGet(registry.host, `/v2/tamper-image/manifests/${img.digest.replace(':', '-')}`);
    await registryPut(registry.host, `/v2/tamper-image/manifests/${sha(changed).replace(':', '-')}`, OCI_INDEX, index);
    const copied = verify(img.ref);
    assert.equal(copied.status, 1);
    assert.match(copied.stderr, new RegExp(`\\(2 checked; ${sigTag(sha(changed))} layer 1: the payload signs ${img.digest}, not ${sha(changed)}\\)\\n$`));
    // The original digest still verifies.
    assert.equal(verify(`${registry.host}/tamper-image@${img.digest}`).status, 0);
  });

  it('uses the referrers API where the registry has one', async () => {
    const img = await pushImage(proxy.host, 'viaapi', 'v1', 'api');
    const r = runCli(['sign', '--key', keys.key, '--signature-format', 'bundle', `${proxy.host}/viaapi@${img.digest}`], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Sigstore bundle sha256:[0-9a-f]{64} \(referrers API\)\n$/);
    const fallback = await fetch(`http://${registry.host}/v2/viaapi/manifests/${img.digest.replace(':', '-')}`);
    assert.equal(fallback.status, 404, 'no fallback tag was written');
    const v = verify(`${proxy.host}/viaapi:v1`);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^verified .*: Sigstore bundle \(bundle referrer sha256:[0-9a-f]{64}\)\n$/);
  });
});
