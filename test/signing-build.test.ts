import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decryptPrivateKey } from '../oci/signing/cosign-key.js';
import { freshCache, requireTools } from './engine-helpers.js';
import { makeDir, runCli, tempDir } from './helpers.js';
import { startRegistry, type TestRegistry } from './registry-helpers.js';
import { generatedKeyPair, opensslVerify, PASSWORD, registryGet, sigstoreVerify } from './signing-helpers.js';

const SIG_ANNOTATION = 'dev.cosignproject.cosign/signature';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Every file under `dir`, with its path. */
function* files(dir: string): Generator<[string, Buffer]> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile() && statSync(p).size < 64 << 20) yield [p, readFileSync(p)];
  }
}

describe('build --push --sign', () => {
  let registry: TestRegistry;
  let keys: ReturnType<typeof generatedKeyPair>;
  const env = { COSIGN_PASSWORD: PASSWORD };
  const context = makeDir({ Dockerfile: 'FROM scratch\nARG TARGETARCH\nCOPY hello /hello\nLABEL app=signed\n', hello: 'signed image\n' });
  let build: ReturnType<typeof runCli>;
  let cache: string;
  let meta: string;

  before(async () => {
    requireTools();
    registry = await startRegistry();
    keys = generatedKeyPair();
    cache = freshCache();
    meta = join(tempDir('meta'), 'metadata.json');
    build = runCli(['build', '--progress', 'plain', '--cache-dir', cache, '--platform', 'linux/amd64,linux/arm64', '-t', `${registry.host}/signed:1`, '--push', '--sign', '--key', keys.key, '--metadata-file', meta, context], { env });
  });
  after(() => registry?.stop());

  it('signs each platform manifest and the index, in both formats; the index holds only the platforms', async () => {
    assert.equal(build.status, 0, build.stderr);
    const top = build.stdout.trim();
    const index = JSON.parse((await registryGet(registry.host, '/v2/signed/manifests/1')).toString()) as { manifests: { digest: string; platform?: { architecture: string; os: string } }[] };
    assert.deepEqual(index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`), ['linux/amd64', 'linux/arm64']);
    assert.match(build.stderr, /signing 3 manifests/);
    for (const digest of [...index.manifests.map((m) => m.digest), top]) {
      const v = runCli(['verify', '--key', keys.pub, `${registry.host}/signed@${digest}`]);
      assert.equal(v.status, 0, v.stderr);
      assert.deepEqual(v.stdout.split('\n').filter(Boolean).map((l) => l.replace(/ \(.*\)$/, '')), [`verified ${registry.host}/signed@${digest}: legacy cosign signature`, `verified ${registry.host}/signed@${digest}: Sigstore bundle`]);
    }
    // openssl checks a platform's legacy signature; @sigstore/verify the index's bundle.
    const amd64 = index.manifests[0]!.digest;
    const sig = JSON.parse((await registryGet(registry.host, `/v2/signed/manifests/${amd64.replace(':', '-')}.sig`)).toString()) as { layers: { digest: string; annotations: Record<string, string> }[] };
    const payload = await registryGet(registry.host, `/v2/signed/blobs/${sig.layers[0]!.digest}`, '*/*');
    assert.equal(JSON.parse(payload.toString()).critical.image['docker-manifest-digest'], amd64);
    assert.equal(opensslVerify(keys.pub, payload, Buffer.from(sig.layers[0]!.annotations[SIG_ANNOTATION]!, 'base64')).ok, true);
    const referrers = JSON.parse((await registryGet(registry.host, `/v2/signed/manifests/${top.replace(':', '-')}`)).toString()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(referrers.manifests.map((d) => d.artifactType), [BUNDLE]);
    const referrer = JSON.parse((await registryGet(registry.host, `/v2/signed/manifests/${referrers.manifests[0]!.digest}`)).toString()) as { subject: { digest: string }; layers: { digest: string }[] };
    assert.equal(referrer.subject.digest, top);
    sigstoreVerify(await registryGet(registry.host, `/v2/signed/blobs/${referrer.layers[0]!.digest}`, '*/*'), keys.pub);
  });

  it('puts no private key byte and no password in any log, layer, referrer, metadata or cache file', () => {
    assert.equal(build.status, 0, build.stderr);
    const pem = readFileSync(keys.key, 'utf8');
    const privateKey = decryptPrivateKey(pem, Buffer.from(PASSWORD), keys.key);
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const pemBody = pem.split('\n').filter((l) => !l.startsWith('-----')).join('');
    const secrets: [string, Buffer][] = [
      ['password', Buffer.from(PASSWORD)],
      ['key file body', Buffer.from(pemBody.slice(0, 48))],
      ['PKCS#8 key', der],
      ['private scalar', d],
      ['private scalar (hex)', Buffer.from(d.toString('hex'))],
      ['private scalar (base64)', Buffer.from(d.toString('base64').slice(0, 40))],
      ['private scalar (base64url)', Buffer.from(d.toString('base64url').slice(0, 40))],
    ];
    const places: [string, Buffer][] = [['build stdout', Buffer.from(build.stdout)], ['build stderr', Buffer.from(build.stderr)], ['metadata file', readFileSync(meta)], ...files(join(registry.dir, 'data')), ...files(cache)];
    assert.ok(places.length > 10, 'the registry and the cache hold files');
    assert.ok(Buffer.from(pem).includes(secrets[1]![1]), 'the search finds what it looks for');
    const found = places.flatMap(([where, bytes]) => secrets.filter(([, s]) => bytes.includes(s)).map(([what]) => `${what} in ${where}`));
    assert.deepEqual(found, []);
  });

  it('--signature-format legacy writes no bundle; a wrong password stops the build before it pushes', async () => {
    const one = runCli(['build', '--progress', 'quiet', '--cache-dir', cache, '-t', `${registry.host}/legacy-only:1`, '--push', '--sign', '--key', keys.key, '--signature-format', 'legacy', context], { env });
    assert.equal(one.status, 0, one.stderr);
    const digest = one.stdout.trim();
    assert.equal(runCli(['verify', '--key', keys.pub, '--signature-format', 'legacy', `${registry.host}/legacy-only:1`]).status, 0);
    const bundle = runCli(['verify', '--key', keys.pub, '--signature-format', 'bundle', `${registry.host}/legacy-only:1`]);
    assert.equal(bundle.status, 1);
    assert.equal(bundle.stderr, `error: ${registry.host}/legacy-only:1: no Sigstore bundle signature found for ${digest}\n`);

    const wrong = runCli(['build', '--progress', 'quiet', '--cache-dir', cache, '-t', `${registry.host}/never:1`, '--push', '--sign', '--key', keys.key, context], { env: { COSIGN_PASSWORD: 'wrong' } });
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stderr, `error: ${keys.key}: wrong password (decryption failed)\n`);
    assert.equal((await fetch(`http://${registry.host}/v2/never/manifests/1`)).status, 404);
  });

  it('rejects --sign without a key, without a push, or with a key for a farm, and --key without --sign', () => {
    const cases: [string[], string][] = [
      [['--push', '--sign'], '--sign needs --key KEY (a cosign private key file; keyless signing is not supported)'],
      [['--sign', '--key', keys.key], '--sign signs what is pushed: add --push (or --output type=registry)'],
      [['--push', '--sign', '--key', keys.key, '--builder', '127.0.0.1:9'], "--key is not sent to a farm: with --builder, --sign signs with the coordinator's key (dockyard coordinator --sign-key)"],
      [['--push', '--key', keys.key], '--key needs --sign'],
      [['--push', '--sign', '--key', keys.key, '--signature-format', 'x509'], 'invalid --signature-format "x509": use legacy, bundle or both'],
    ];
    for (const [flags, message] of cases) {
      const r = runCli(['build', '-t', `${registry.host}/x:1`, ...flags, context], { env });
      assert.deepEqual([r.status, r.stderr], [2, `error: ${message}\n`], flags.join(' '));
    }
  });
});
