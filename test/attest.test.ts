import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { putBlob } from '../cache/blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { parseBuildFlags } from '../cli/build-flags.js';
import { scanImage } from '../coordinator/attest/image-scan.js';
import { spdxDocument } from '../coordinator/attest/spdx.js';
import { MediaType } from '../oci/manifest.js';
import { makeDir, runCli, tempDir } from './helpers.js';
import { spdxCorpus, spdxValidator } from './spdx-helpers.js';

type Entry = { name: string; body?: string; type?: 'file' | 'directory' | 'link'; linkname?: string };

/** A gzipped layer tar in a real blob store, as the scanner reads layers. */
async function layer(store: FsBlobStore, entries: Entry[]): Promise<{ digest: `sha256:${string}`; mediaType: string }> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: 0o755 });
    else if (e.type === 'link') pack.entry({ name: e.name, type: 'link', linkname: e.linkname! });
    else pack.entry({ name: e.name, mode: 0o644 }, e.body ?? '');
  }
  pack.finalize();
  await ended;
  const info = await putBlob(store, gzipSync(Buffer.concat(chunks)));
  return { digest: info.digest, mediaType: MediaType.ociLayerGzip };
}

const subject = { name: 'registry.test/app:1', digest: `sha256:${'a'.repeat(64)}`, platform: 'linux/amd64', created: '2026-01-02T03:04:05.678Z', tool: 'dockyard-test' };

describe('the SPDX 2.3 schema validator', () => {
  it('accepts the specification\'s own example and rejects it without its spdxVersion', () => {
    const validate = spdxValidator();
    const example = JSON.parse(readFileSync(join(spdxCorpus(), 'SPDXJSONExample-v2.3.spdx.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(validate(example), []);
    const { spdxVersion: _v, ...broken } = example;
    assert.notDeepEqual(validate(broken), [], 'a document without spdxVersion must fail');
  });
});

describe('the SBOM scanner', () => {
  it('reads dpkg, apk, npm and Python databases from layer streams, with whiteouts and opaque directories applied', async () => {
    const store = new FsBlobStore(tempDir('sbom-blobs'));
    const base = await layer(store, [
      { name: 'etc/os-release', body: 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\nVERSION_ID="12"\n' },
      { name: 'var/lib/dpkg/status', body: 'Package: old\nStatus: install ok installed\nVersion: 1\n' },
      { name: 'lib/apk/db/installed', body: 'P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\n' },
      { name: 'usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA', body: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n' },
      { name: 'app/package-lock.json', body: JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'app', version: '1.0.0' }, 'node_modules/left-pad': { version: '1.3.0', license: 'WTFPL' }, 'node_modules/@scope/x': { version: '2.0.0', license: 'MIT' } } }) },
      { name: 'app/node_modules/left-pad/package.json', body: JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' }) },
      { name: 'app/node_modules/left-pad/lib/package.json', body: JSON.stringify({ name: 'not-a-package', version: '0.0.1' }) },
      { name: 'legacy/package-lock.json', body: JSON.stringify({ lockfileVersion: 1, dependencies: { ms: { version: '2.1.3', dependencies: { tiny: { version: '0.1.0' } } } } }) },
    ]);
    const upper = await layer(store, [
      // The upper status replaces the base's; a removed package stays in the file but is not installed.
      { name: 'var/lib/dpkg/status', body: 'Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\nMaintainer: Santiago Vila <sanvila@debian.org>\nDescription: example package\n more text\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 9\n' },
      { name: 'var/lib/dpkg/status.d/base-files', body: 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n' },
      { name: 'lib/apk/db/.wh.installed' },
      { name: 'usr/lib/python3/site-packages/.wh..wh..opq' },
      { name: 'usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA', body: 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n\nSix is a compatibility library.\nName: not-a-header\n' },
    ]);
    const scan = await scanImage([base, upper], store);
    const doc = spdxDocument(scan, subject);
    const purls = doc.packages.slice(1).map((p) => p.externalRefs![0]!.referenceLocator);
    assert.deepEqual(purls, [
      'pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12',
      'pkg:deb/debian/hello@2.10-3?arch=amd64&distro=debian-12',
      'pkg:npm/%40scope/x@2.0.0',
      'pkg:npm/left-pad@1.3.0',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/tiny@0.1.0',
      'pkg:pypi/six@1.16.0',
    ]);
    const hello = doc.packages.find((p) => p.name === 'hello')!;
    assert.equal(hello.supplier, 'Person: Santiago Vila (sanvila@debian.org)');
    assert.equal(hello.sourceInfo, 'acquired package info from the dpkg database: /var/lib/dpkg/status');
    assert.equal(doc.packages.find((p) => p.name === 'six')!.licenseDeclared, 'MIT');
    assert.equal(doc.files, undefined, 'with packages found, files are not listed');
    assert.deepEqual(spdxValidator()(doc), []);
  });

  it('lists every regular file with its SHA-256 when no package database is found', async () => {
    const store = new FsBlobStore(tempDir('sbom-blobs'));
    const base = await layer(store, [
      { name: 'bin/', type: 'directory' },
      { name: 'bin/tool', body: 'tool v1' },
      { name: 'bin/same', type: 'link', linkname: 'bin/tool' },
      { name: 'etc/removed', body: 'gone' },
    ]);
    const upper = await layer(store, [{ name: 'etc/.wh.removed' }, { name: 'etc/motd', body: 'hello\n' }]);
    const doc = spdxDocument(await scanImage([base, upper], store), subject);
    const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
    assert.deepEqual(
      doc.files!.map((f) => [f.fileName, f.checksums.find((c) => c.algorithm === 'SHA256')!.checksumValue]),
      [
        ['./bin/same', sha256('tool v1')],
        ['./bin/tool', sha256('tool v1')],
        ['./etc/motd', sha256('hello\n')],
      ],
    );
    assert.equal(doc.relationships.filter((r) => r.relationshipType === 'CONTAINS').length, 3);
    assert.equal(doc.creationInfo.created, '2026-01-02T03:04:05Z', 'SPDX times have no fractions');
    assert.deepEqual(spdxValidator()(doc), []);
  });
});

describe('--provenance and --sbom', () => {
  const ctx = makeDir({ Dockerfile: 'FROM scratch\n' });
  it('take buildx\'s values, bare or with =', () => {
    const flags = (...args: string[]) => {
      const f = parseBuildFlags([...args, ctx], {});
      assert.notEqual(f, 'help');
      return f === 'help' ? undefined : f.attest;
    };
    assert.deepEqual(flags('--provenance', '--sbom'), { provenance: { mode: 'min' }, sbom: true });
    assert.deepEqual(flags('--provenance=mode=max,builder-id=https://ci.example/run/1', '--sbom=false'), { provenance: { mode: 'max', builderId: 'https://ci.example/run/1' }, sbom: false });
    assert.deepEqual(flags('--provenance=false', '--sbom=true'), { sbom: true });
    // What the Action passes for provenance: true inside a workflow run.
    assert.deepEqual(flags('--provenance=builder-id=https://github.com/o/r/actions/runs/1/attempts/1,version=v1'), { provenance: { mode: 'min', builderId: 'https://github.com/o/r/actions/runs/1/attempts/1' }, sbom: false });
    assert.deepEqual(flags(), { sbom: false });
  });

  it('refuse bad values and outputs that cannot carry attestations, in one line naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['--provenance=mode=maximal'], /^error: invalid --provenance mode=maximal: use min or max\n$/],
      [['--provenance=level=2'], /^error: invalid --provenance "level=2": use true, false, or mode=min\|max\[,builder-id=URI\]\n$/],
      [['--sbom=generator=docker/scout'], /^error: invalid --sbom "generator=docker\/scout"/],
      [['--provenance=mode=max,version=v0.2'], /^error: invalid --provenance version=v0\.2: Dockyard writes SLSA provenance v1 only\n$/],
      [['--sbom', '-o', 'type=tar,dest=out.tar'], /^error: --sbom: --output type=tar has no place for attestations; use type=local/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['build', ...args, ctx]);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
