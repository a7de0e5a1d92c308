import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { repoRoot, runCli, tempDir } from './helpers.js';

export const PASSWORD = 'correct horse battery staple';

/** cosign's test keys, read from ../shared beside the repository (or DOCKYARD_COSIGN_CORPUS); never copied in. */
export function cosignCorpus(): string {
  const dir = process.env.DOCKYARD_COSIGN_CORPUS ?? join(repoRoot, '..', 'shared', 'conformance', 'cosign');
  if (!existsSync(join(dir, 'SOURCE.md'))) throw new Error(`cosign key corpus missing at ${dir}: clone the repo beside ../shared or set DOCKYARD_COSIGN_CORPUS`);
  return dir;
}

/** The key file cosign would read, rebuilt from the corpus's JSON as its SOURCE.md says. */
export function corpusKeyFile(name: string, label: string): string {
  const json = readFileSync(join(cosignCorpus(), `${name}.key.json`));
  const lines = json.toString('base64').match(/.{1,64}/g)!;
  const path = join(tempDir('corpus-key'), `${name}.key`);
  writeFileSync(path, `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`);
  return path;
}

/** A key pair made by `dockyard generate-key-pair` in a fresh directory. */
export function generatedKeyPair(): { dir: string; key: string; pub: string } {
  const dir = tempDir('keys');
  const r = runCli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
  assert.equal(r.status, 0, r.stderr);
  return { dir, key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
}

/** A registry's answer, read with plain HTTP (not through Dockyard's client). */
export async function registryGet(host: string, path: string, accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'): Promise<Buffer> {
  const res = await fetch(`http://${host}${path}`, { headers: { accept } });
  assert.equal(res.status, 200, `GET ${path}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export async function registryPut(host: string, path: string, mediaType: string, body: Buffer): Promise<void> {
  const res = await fetch(`http://${host}${path}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: new Uint8Array(body) });
  assert.equal(res.status, 201, `PUT ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** Uploads a blob with one POST and one PUT. */
export async function registryPushBlob(host: string, repo: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const url = new URL(start.headers.get('location')!, `http://${host}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(data) });
  assert.equal(put.status, 201);
  return digest;
}

/** openssl's verdict on a DER signature over `payload` with a PEM public key. */
export function opensslVerify(pub: string, payload: Buffer, signature: Buffer): { ok: boolean; output: string } {
  const dir = tempDir('openssl');
  writeFileSync(join(dir, 'payload'), payload);
  writeFileSync(join(dir, 'sig.der'), signature);
  const r = spawnSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', 'sig.der', 'payload'], { cwd: dir, encoding: 'utf8' });
  return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() };
}

/** @sigstore/verify's verdict on a bundle, trusting only `pub` (no transparency log, no timestamps). */
export function sigstoreVerify(bundle: Buffer, pub: string): void {
  const key = createPublicKey(readFileSync(pub));
  const hint = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('base64');
  const trust = toTrustMaterial({ mediaType: '', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }, (h: string) => {
    assert.equal(h, hint, 'the bundle names our key by its hint');
    return { publicKey: key, validFor: () => true };
  });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(bundle.toString()))));
}
