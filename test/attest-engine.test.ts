import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildOci, busyboxDir, busyboxLayout, freshCache, requireTools, rootfsFile, unpack } from './engine-helpers.js';
import { makeDir, repoRoot, runCli, tempDir } from './helpers.js';
import { startRegistry, type TestRegistry } from './registry-helpers.js';
import { spdxValidator } from './spdx-helpers.js';
import { generatedKeyPair, opensslVerify, PASSWORD, sigstoreVerify } from './signing-helpers.js';

const skopeo = (...args: string[]): string => {
  const r = spawnSync('skopeo', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string };
}
interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: Record<string, unknown> & {
    buildDefinition?: {
      externalParameters: { configSource: { path: string; digest: { sha256: string } }; request: { args: Record<string, string>; secrets?: { id: string }[] } };
      internalParameters: { buildConfig?: { steps: unknown[] } };
      resolvedDependencies: { uri?: string; name?: string; digest: Record<string, string> }[];
    };
    runDetails?: { builder: { id: string }; metadata: { startedOn: string; finishedOn: string } };
    packages?: { name: string; versionInfo?: string }[];
    files?: { fileName: string; checksums: { algorithm: string; checksumValue: string }[] }[];
  };
}

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const SPDX = 'https://spdx.dev/Document';
const STATUS = [
  'Package: hello', 'Status: install ok installed', 'Version: 2.10-3', 'Architecture: amd64', 'Maintainer: Santiago Vila <sanvila@debian.org>', 'Description: example package', '',
  'Package: removed', 'Status: deinstall ok config-files', 'Version: 1.0', '',
  'Package: libc6', 'Status: install ok installed', 'Version: 2.36-9+deb12u4', 'Architecture: amd64', '',
].join('\n');

describe('attestations of a multi-platform push (--provenance=mode=max --sbom)', () => {
  let registry: TestRegistry;
  const secret = `s3cret-${randomBytes(8).toString('hex')}`;
  const proxyPassword = `proxy-${randomBytes(8).toString('hex')}`;
  let index: { manifests: Descriptor[] };
  let baseDigests: Record<string, string>;
  let pushLog: string;
  /** Per platform: the referrers the fallback tag lists, and their statements, fetched from the registry. */
  const found = new Map<string, { referrers: Descriptor[]; statements: Map<string, { bytes: Buffer; statement: Statement; manifest: { subject: Descriptor; artifactType: string; layers: Descriptor[] } }> }>();

  // Exec form: the step needs the secret (test -s fails on an empty one) and runs without a shell.
  // The ADD fetches a blob the registry serves over plain HTTP: a URL source with a known digest.
  let addedBlob: string;
  const dockerfile = (): string => `FROM ${registry.host}/busybox\nARG GREETING=hello\nRUN --mount=type=secret,id=token,required=true ["/bin/busybox", "test", "-s", "/run/secrets/token"]\nCOPY status /var/lib/dpkg/status\nADD http://${registry.host}/v2/busybox/blobs/${addedBlob} /base-config.json\n`;

  const blob = async (digest: string): Promise<Buffer> => {
    const res = await fetch(`http://${registry.host}/v2/app/blobs/${digest}`);
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };

  before(async () => {
    requireTools();
    registry = await startRegistry();
    const base = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--platform', 'linux/amd64,linux/arm64', '--build-context', `busybox-bin=${busyboxDir}`, '-t', `${registry.host}/busybox:latest`, '--push', join(repoRoot, 'examples', 'busybox')]);
    assert.equal(base.status, 0, base.stderr);
    const baseIndex = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/busybox:latest`)) as { manifests: Descriptor[] };
    baseDigests = Object.fromEntries(baseIndex.manifests.map((m) => [m.platform!.architecture, m.digest]));
    addedBlob = (JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/busybox@${baseDigests.amd64}`)) as { config: Descriptor }).config.digest;

    const dir = makeDir({
      Dockerfile: dockerfile(),
      status: STATUS,
      'token.txt': secret,
    });
    const r = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '--platform', 'linux/amd64,linux/arm64', '--secret', `id=token,src=${join(dir, 'token.txt')}`, '--build-arg', 'GREETING=bonjour', '--build-arg', `HTTP_PROXY=http://user:${proxyPassword}@127.0.0.1:9`, '-t', `${registry.host}/app:1`, '--provenance=mode=max', '--sbom', '--push', dir]);
    assert.equal(r.status, 0, r.stderr);
    pushLog = r.stdout + r.stderr;
    index = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/app:1`)) as { manifests: Descriptor[] };
    for (const m of index.manifests) {
      // Discovered the way a client of distribution 2.8 must: the referrers fallback tag.
      const tag = m.digest.replace(':', '-');
      const referrers = (JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/app:${tag}`)) as { manifests: Descriptor[] }).manifests;
      const statements = new Map();
      for (const d of referrers) {
        const manifest = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/app@${d.digest}`)) as { subject: Descriptor; artifactType: string; layers: Descriptor[] };
        const bytes = await blob(manifest.layers[0]!.digest);
        statements.set(d.annotations!['in-toto.io/predicate-type']!, { bytes, statement: JSON.parse(bytes.toString()) as Statement, manifest });
      }
      found.set(m.platform!.architecture, { referrers, statements });
    }
  });
  after(() => registry?.stop());

  it('pushes an index that holds only the two platforms', () => {
    assert.deepEqual(index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`), ['linux/amd64', 'linux/arm64']);
    assert.ok(index.manifests.every((m) => m.mediaType === 'application/vnd.oci.image.manifest.v1+json' && !m.annotations));
    assert.match(pushLog, /attached 4 attestations as referrers/);
  });

  it('lists a provenance and an SBOM referrer per platform under the fallback tag, each about that platform\'s manifest', () => {
    for (const m of index.manifests) {
      const { referrers, statements } = found.get(m.platform!.architecture)!;
      assert.deepEqual(referrers.map((d) => [d.artifactType, d.annotations?.['in-toto.io/predicate-type']]).sort(), [['application/vnd.in-toto+json', PROVENANCE], ['application/vnd.in-toto+json', SPDX]]);
      for (const { manifest, statement } of statements.values()) {
        assert.equal(manifest.subject.digest, m.digest);
        assert.equal(manifest.artifactType, 'application/vnd.in-toto+json');
        assert.equal(manifest.layers[0]!.mediaType, 'application/vnd.in-toto+json');
        assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
        assert.deepEqual(statement.subject, [{ name: `pkg:docker/${encodeURIComponent(registry.host)}/app@1?platform=linux%2F${m.platform!.architecture}`, digest: { sha256: m.digest.slice(7) } }]);
      }
    }
  });

  it('records the real base image digest, the Dockerfile digest, build args without proxies, and the times', () => {
    for (const arch of ['amd64', 'arm64']) {
      const p = found.get(arch)!.statements.get(PROVENANCE)!.statement.predicate;
      const def = p.buildDefinition!;
      const base = def.resolvedDependencies.find((d) => d.uri?.startsWith('pkg:docker/'));
      assert.deepEqual(base, { uri: `pkg:docker/${encodeURIComponent(registry.host)}/busybox@latest?platform=linux%2F${arch}`, digest: { sha256: baseDigests[arch]!.slice(7) } });
      assert.match(def.resolvedDependencies.find((d) => d.name === 'context')?.digest.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.deepEqual(def.resolvedDependencies.find((d) => d.uri?.startsWith('http://')), { uri: `http://${registry.host}/v2/busybox/blobs/${addedBlob}`, digest: { sha256: addedBlob.slice(7) } });
      assert.equal(def.externalParameters.configSource.path, 'Dockerfile');
      assert.equal(def.externalParameters.configSource.digest.sha256, createHash('sha256').update(dockerfile()).digest('hex'));
      assert.deepEqual(def.externalParameters.request.args, { 'build-arg:GREETING': 'bonjour' });
      assert.deepEqual(def.externalParameters.request.secrets, [{ id: 'token' }]);
      assert.ok((def.internalParameters.buildConfig?.steps.length ?? 0) >= 6, 'mode=max lists the steps');
      const { startedOn, finishedOn } = p.runDetails!.metadata;
      assert.ok(Date.parse(startedOn) <= Date.parse(finishedOn));
    }
  });

  it('never lets a secret or a proxy credential into any attestation', () => {
    for (const { statements } of found.values()) {
      for (const { bytes } of statements.values()) {
        assert.ok(!bytes.includes(secret), 'the --secret value');
        assert.ok(!bytes.includes(proxyPassword), 'the HTTP_PROXY credentials');
        assert.ok(!bytes.includes('HTTP_PROXY'));
      }
    }
  });

  it('lists the dpkg packages of the hand-made status file in an SBOM that validates against SPDX 2.3', () => {
    const validate = spdxValidator();
    for (const arch of ['amd64', 'arm64']) {
      const doc = found.get(arch)!.statements.get(SPDX)!.statement.predicate;
      assert.deepEqual(validate(doc), []);
      assert.deepEqual(doc.packages!.slice(1).map((p) => `${p.name}@${p.versionInfo}`), ['hello@2.10-3', 'libc6@2.36-9+deb12u4']);
    }
  });

  it('shows them in imagetools inspect, and per platform in --format json', () => {
    const text = runCli(['imagetools', 'inspect', `${registry.host}/app:1`]);
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout.match(/https:\/\/slsa\.dev\/provenance\/v1/g)?.length, 2);
    assert.equal(text.stdout.match(/https:\/\/spdx\.dev\/Document/g)?.length, 2);
    assert.match(text.stdout, new RegExp(`Name: +${registry.host.replace(/\./g, '\\.')}/app@sha256:`));
    const json = runCli(['imagetools', 'inspect', '--format', 'json', `${registry.host}/app:1`]);
    assert.equal(json.status, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { Provenance: Record<string, { SLSA: unknown }>; SBOM: Record<string, { SPDX: unknown }> };
    assert.deepEqual(Object.keys(out.Provenance), ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(Object.keys(out.SBOM), ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(out.SBOM['linux/arm64']!.SPDX, found.get('arm64')!.statements.get(SPDX)!.statement.predicate);
    assert.deepEqual(out.Provenance['linux/amd64']!.SLSA, found.get('amd64')!.statements.get(PROVENANCE)!.statement.predicate);
  });
});

describe('signed attestations (--provenance --sbom --sign --key)', () => {
  let registry: TestRegistry;
  const keys = generatedKeyPair();
  /** Per platform: the attestation bundles the fallback tag lists, by predicate type. */
  const bundles = new Map<string, Map<string, { descriptor: Descriptor; bytes: Buffer }>>();
  let index: { manifests: Descriptor[] };

  before(async () => {
    requireTools();
    registry = await startRegistry();
    const base = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--platform', 'linux/amd64,linux/arm64', '--build-context', `busybox-bin=${busyboxDir}`, '-t', `${registry.host}/busybox:latest`, '--push', join(repoRoot, 'examples', 'busybox')]);
    assert.equal(base.status, 0, base.stderr);
    const dir = makeDir({ Dockerfile: `FROM ${registry.host}/busybox\nCOPY status /var/lib/dpkg/status\n`, status: STATUS });
    const r = runCli(['build', '--progress', 'plain', '--cache-dir', freshCache(), '--platform', 'linux/amd64,linux/arm64', '-t', `${registry.host}/signed:1`, '--provenance=mode=max', '--sbom', '--sign', '--key', keys.key, '--push', dir], { env: { COSIGN_PASSWORD: PASSWORD } });
    assert.equal(r.status, 0, r.stderr);
    index = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/signed:1`)) as { manifests: Descriptor[] };
    for (const m of index.manifests) {
      const listed = (JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/signed:${m.digest.replace(':', '-')}`)) as { manifests: Descriptor[] }).manifests;
      const found = new Map<string, { descriptor: Descriptor; bytes: Buffer }>();
      for (const d of listed) {
        const manifest = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/signed@${d.digest}`)) as { layers: Descriptor[] };
        const res = await fetch(`http://${registry.host}/v2/signed/blobs/${manifest.layers[0]!.digest}`);
        found.set(d.annotations?.['dev.sigstore.bundle.predicateType'] ?? '', { descriptor: d, bytes: Buffer.from(await res.arrayBuffer()) });
      }
      bundles.set(m.platform!.architecture, found);
    }
  });
  after(() => registry?.stop());

  it('stores each platform\'s provenance and SBOM as Sigstore bundles that @sigstore/verify and openssl verify with our key', () => {
    assert.deepEqual(index.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
    for (const m of index.manifests) {
      const found = bundles.get(m.platform!.architecture)!;
      // The image's own cosign signature bundle, and one bundle per attestation.
      assert.deepEqual([...found.keys()].sort(), ['https://sigstore.dev/cosign/sign/v1', PROVENANCE, SPDX]);
      for (const type of [PROVENANCE, SPDX]) {
        const { descriptor, bytes } = found.get(type)!;
        assert.equal(descriptor.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
        assert.equal(descriptor.annotations?.['dev.sigstore.bundle.content'], 'dsse-envelope');
        sigstoreVerify(bytes, keys.pub);
        const env = (JSON.parse(bytes.toString()) as { dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] } }).dsseEnvelope;
        const payload = Buffer.from(env.payload, 'base64');
        const pae = (p: Buffer): Buffer => Buffer.concat([Buffer.from(`DSSEv1 ${env.payloadType.length} ${env.payloadType} ${p.length} `), p]);
        const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
        assert.ok(opensslVerify(keys.pub, pae(payload), sig).ok);
        const tampered = Buffer.from(payload);
        tampered[10] = tampered[10]! ^ 1;
        assert.equal(opensslVerify(keys.pub, pae(tampered), sig).ok, false, 'one changed byte of the statement breaks the signature');
        const statement = JSON.parse(payload.toString()) as Statement;
        assert.equal(statement.predicateType, type);
        assert.equal(statement.subject[0]!.digest.sha256, m.digest.slice(7));
      }
    }
  });

  it('puts no byte of the key file and not its password into any referrer', () => {
    const keyBody = readFileSync(keys.key, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    for (const found of bundles.values()) {
      for (const { bytes } of found.values()) {
        assert.ok(!bytes.includes(PASSWORD));
        for (let i = 0; i + 32 <= keyBody.length; i += 32) assert.ok(!bytes.includes(keyBody.slice(i, i + 32)), 'a piece of the encrypted key');
      }
    }
  });

  it('shows the signed statements in imagetools inspect', () => {
    const text = runCli(['imagetools', 'inspect', `${registry.host}/signed:1`]);
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout.match(/https:\/\/slsa\.dev\/provenance\/v1 \(signed\)/g)?.length, 2);
    const json = JSON.parse(runCli(['imagetools', 'inspect', '--format', 'json', `${registry.host}/signed:1`]).stdout) as { SBOM: Record<string, { SPDX: { packages: { name: string }[] } }> };
    assert.deepEqual(json.SBOM['linux/arm64']!.SPDX.packages.slice(1).map((p) => p.name), ['hello', 'libc6']);
  });
});

describe('attestations without a registry', () => {
  it('go into an OCI layout beside the image, which stays usable, with an SBOM of every file when no package database exists', () => {
    const r = buildOci({ Dockerfile: 'FROM busybox\nRUN echo made > /made\n' }, ['--provenance', '--sbom']);
    assert.equal(r.status, 0, r.stderr);
    const layoutIndex = JSON.parse(readFileSync(join(r.layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const [image, ...referrers] = layoutIndex.manifests;
    assert.equal(image!.annotations?.['org.opencontainers.image.ref.name'], 'latest');
    assert.deepEqual(referrers.map((d) => d.annotations?.['in-toto.io/predicate-type']), [PROVENANCE, SPDX]);
    const read = (digest: string): Buffer => readFileSync(join(r.layout, 'blobs', 'sha256', digest.slice(7)));
    for (const d of referrers) assert.equal((JSON.parse(read(d.digest).toString()) as { subject: Descriptor }).subject.digest, image!.digest);
    const sbomManifest = JSON.parse(read(referrers[1]!.digest).toString()) as { layers: Descriptor[] };
    const doc = (JSON.parse(read(sbomManifest.layers[0]!.digest).toString()) as Statement).predicate;
    assert.deepEqual(spdxValidator()(doc), []);
    const sha = (f: string): string | undefined => doc.files!.find((x) => x.fileName === f)?.checksums.find((c) => c.algorithm === 'SHA256')?.checksumValue;
    assert.equal(sha('./bin/busybox'), createHash('sha256').update(readFileSync(join(busyboxDir, 'amd64', 'busybox'))).digest('hex'));
    assert.equal(sha('./made'), createHash('sha256').update('made\n').digest('hex'));
    // min mode: no step list, no Dockerfile source.
    const provManifest = JSON.parse(read(referrers[0]!.digest).toString()) as { layers: Descriptor[] };
    const prov = JSON.parse(read(provManifest.layers[0]!.digest).toString()) as Statement;
    assert.equal(prov.predicate.buildDefinition!.internalParameters.buildConfig, undefined);
    assert.equal(rootfsFile(unpack(r.layout), 'made'), 'made\n');
  });

  it('go into the OCI layout inside a type=docker archive, which skopeo still reads as a docker archive', () => {
    const dest = join(tempDir('docker'), 'image.tar');
    const r = buildOci({ Dockerfile: 'FROM busybox\nRUN echo made > /made\n' }, ['--sbom', '-o', `type=docker,dest=${dest}`]);
    assert.equal(r.status, 0, r.stderr);
    const inspected = JSON.parse(skopeo('inspect', `docker-archive:${dest}`)) as { Architecture: string; RepoTags: string[] };
    assert.equal(inspected.Architecture, 'amd64');
    const listed = spawnSync('tar', ['-xOf', dest, 'index.json'], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const entries = (JSON.parse(listed.stdout) as { manifests: Descriptor[] }).manifests;
    assert.deepEqual(entries.map((d) => d.annotations?.['in-toto.io/predicate-type'] ?? d.annotations?.['org.opencontainers.image.ref.name']), ['latest', SPDX]);
  });

  it('are written as provenance.json and sbom.spdx.json beside the files of type=local', () => {
    const dest = join(tempDir('local'), 'out');
    const env = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'octo/app', GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '2' };
    const r = buildOci({ Dockerfile: 'FROM busybox\nCOPY status /var/lib/dpkg/status\n', status: STATUS }, ['--provenance=mode=max', '--sbom', '-o', `type=local,dest=${dest}`], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dest, 'var', 'lib', 'dpkg', 'status')));
    const prov = JSON.parse(readFileSync(join(dest, 'provenance.json'), 'utf8')) as Statement;
    const sbom = JSON.parse(readFileSync(join(dest, 'sbom.spdx.json'), 'utf8')) as Statement;
    assert.equal(prov.predicateType, PROVENANCE);
    assert.equal(prov.predicate.runDetails!.builder.id, 'https://github.com/octo/app/actions/runs/7/attempts/2', 'in a workflow run, the run is the builder');
    // The named context's image: the amd64 manifest of the busybox layout's index.
    const layout = busyboxLayout();
    const top = (JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] }).manifests[0]!;
    const amd64 = (JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', top.digest.slice(7)), 'utf8')) as { manifests: Descriptor[] }).manifests.find((m) => m.platform?.architecture === 'amd64')!;
    assert.deepEqual(prov.predicate.buildDefinition!.resolvedDependencies.find((d) => d.uri?.startsWith('pkg:oci/')), { uri: 'pkg:oci/busybox?platform=linux%2Famd64', name: 'busybox', digest: { sha256: amd64.digest.slice(7) } });
    assert.deepEqual(sbom.predicate.packages!.slice(1).map((p) => p.name), ['hello', 'libc6']);
  });
});
