/**
 * The farm's transport on loopback: the shared token, TLS and mTLS with certificates made by openssl,
 * and the server's lifecycle, exercised through the Content service (what a worker or a client reads
 * blobs with).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BlobError, putBlob, readBlob, type BlobWriter } from '../cache/blob-store.js';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { contentService } from '../coordinator/farm/content-service.js';
import { sha256, type Digest } from '../oci/digest.js';
import { ExpectedError } from '../oci/expected-error.js';
import { readToken } from '../proto/auth.js';
import type { ContentClient } from '../proto/generated/dockyard/v1/Content.js';
import { loadDockyardProto } from '../proto/load.js';
import { dialOptions, startGrpcServer, type DialOptions, type StartedServer, type TlsFiles } from '../proto/transport.js';
import { makeCertificates } from './grpc-helpers.js';
import { tempDir } from './helpers.js';

/** A filesystem store that counts what the service asks of it. */
class CountingStore extends FsBlobStore {
  calls = 0;
  override stat(digest: Digest): Promise<number | undefined> {
    this.calls++;
    return super.stat(digest);
  }
  override stream(digest: Digest): Readable {
    this.calls++;
    return super.stream(digest);
  }
  override writer(expected?: Digest): BlobWriter {
    this.calls++;
    return super.writer(expected);
  }
}

const running: { close(): unknown }[] = [];
after(async () => {
  for (const r of running.reverse()) await r.close();
});

async function serve(opts: { token?: string; tls?: TlsFiles; graceMs?: number } = {}): Promise<{ server: StartedServer; store: CountingStore }> {
  const store = new CountingStore(tempDir('served'));
  const server = await startGrpcServer({ listen: '127.0.0.1:0', tls: opts.tls ?? {}, token: opts.token, graceMs: opts.graceMs, services: [contentService(store, { spoolDir: tempDir('upload-spool') })] });
  running.push(server);
  return { server, store };
}

function rawClient(address: string, dial: DialOptions): ContentClient {
  const { credentials, options } = dialOptions(dial);
  const client = new (loadDockyardProto().dockyard.v1.Content)(address, credentials, options);
  running.push(client);
  return client;
}

function storeClient(address: string, dial: DialOptions): ContentBlobStore {
  const store = new ContentBlobStore(address, dial, { scratchDir: tempDir('spool') });
  running.push(store);
  return store;
}

/** How each Content call ends: its status code and details. */
async function everyCall(client: ContentClient, digest: Digest): Promise<{ code: number | undefined; details: string | undefined }[]> {
  const unary = (fn: (cb: (err: grpc.ServiceError | null) => void) => void): Promise<grpc.ServiceError | null> => new Promise((resolve) => fn((err) => resolve(err)));
  const stat = unary((cb) => client.Stat({ digest }, cb));
  const find = unary((cb) => client.FindMissing({ digests: [digest] }, cb));
  const upload = unary((cb) => {
    const call = client.Upload(cb);
    call.write({ header: { digest: sha256('x'), size: 1, offset: 0 } });
    call.write({ data: Buffer.from('x') });
    call.end();
  });
  const download = new Promise<grpc.ServiceError | null>((resolve) => {
    const call = client.Download({ digest, offset: 0 });
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('end', () => resolve(null));
  });
  return (await Promise.all([stat, find, upload, download])).map((e) => ({ code: e?.code, details: e?.details }));
}

describe('the shared token', () => {
  it('refuses every Content call without the token or with a wrong one: UNAUTHENTICATED, one line, before any handler runs', async () => {
    const { server, store } = await serve({ token: 'the-farm-token' });
    const { digest } = await putBlob(store, 'a blob no stranger may read');
    store.calls = 0;
    const missing = { code: grpc.status.UNAUTHENTICATED, details: "unauthenticated: this coordinator requires the farm's token (set DOCKYARD_TOKEN or --token-file)" };
    const wrong = { code: grpc.status.UNAUTHENTICATED, details: "unauthenticated: the token does not match this coordinator's (check DOCKYARD_TOKEN or --token-file)" };
    assert.deepEqual(await everyCall(rawClient(server.address, {}), digest), [missing, missing, missing, missing]);
    assert.deepEqual(await everyCall(rawClient(server.address, { token: 'not-the-farm-token' }), digest), [wrong, wrong, wrong, wrong]);
    assert.equal(store.calls, 0, 'a handler ran for an unauthenticated call');

    await assert.rejects(storeClient(server.address, { token: 'the-farm-tokeN' }).stat(digest), (err: Error) => err instanceof BlobError && err.message === `content service ${server.address}: stat ${digest}: ${wrong.details}`);
    const member = storeClient(server.address, { token: 'the-farm-token' });
    assert.equal((await readBlob(member, digest)).toString(), 'a blob no stranger may read');
  });

  it('is read from --token-file first, then DOCKYARD_TOKEN; a bad file is one line naming it', () => {
    const dir = tempDir('token');
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret-from-file\n');
    assert.equal(readToken({ tokenFile: file, env: { DOCKYARD_TOKEN: 'from-env' } }), 's3cret-from-file');
    assert.equal(readToken({ env: { DOCKYARD_TOKEN: 'from-env' } }), 'from-env');
    assert.equal(readToken({ env: {} }), undefined);
    const absent = join(dir, 'absent');
    assert.throws(() => readToken({ tokenFile: absent }), (e: Error) => e instanceof ExpectedError && e.message === `cannot read --token-file ${absent}: no such file`);
    writeFileSync(join(dir, 'empty'), '\n');
    assert.throws(() => readToken({ tokenFile: join(dir, 'empty') }), { message: `--token-file ${join(dir, 'empty')} is empty` });
    writeFileSync(join(dir, 'binary'), 'to\u0000ken');
    assert.throws(() => readToken({ tokenFile: join(dir, 'binary') }), { message: `--token-file ${join(dir, 'binary')} holds characters a token cannot have (use printable ASCII)` });
  });
});

describe('TLS', () => {
  const certs = makeCertificates();

  it('serves TLS with a certificate: a client trusting its CA round-trips a blob, others are refused', async () => {
    const { server } = await serve({ token: 't', tls: { cert: certs.serverCert, key: certs.serverKey } });
    const trusted = storeClient(server.address, { token: 't', tls: { ca: certs.ca } });
    const { digest } = await putBlob(trusted, 'over TLS');
    assert.equal((await readBlob(trusted, digest)).toString(), 'over TLS');
    for (const dial of [{ token: 't' }, { token: 't', tls: { ca: certs.otherCa } }]) {
      const [stat] = await everyCall(rawClient(server.address, dial), digest);
      assert.equal(stat!.code, grpc.status.UNAVAILABLE, JSON.stringify(dial));
    }
  });

  it('with --tls-ca requires a client certificate signed by that CA (mTLS), and carries a blob over 16 MiB', async () => {
    const { server } = await serve({ token: 't', tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
    const member = storeClient(server.address, { token: 't', tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    const data = randomBytes((16 << 20) + 4321);
    const w = member.writer(sha256(data));
    w.end(data);
    assert.deepEqual(await w.commit(), { digest: sha256(data), size: data.length });
    assert.ok((await readBlob(member, sha256(data))).equals(data));
    const [stat] = await everyCall(rawClient(server.address, { token: 't', tls: { ca: certs.ca } }), sha256(data));
    assert.equal(stat!.code, grpc.status.UNAVAILABLE);
  });

  it('refuses bad TLS flags in one line', async () => {
    await assert.rejects(startGrpcServer({ listen: '127.0.0.1:0', tls: { cert: certs.serverCert }, services: [] }), { message: '--tls-cert and --tls-key go together: give both or neither' });
    await assert.rejects(startGrpcServer({ listen: '127.0.0.1:0', tls: { ca: certs.ca }, services: [] }), { message: '--tls-ca on the coordinator requires --tls-cert and --tls-key' });
    const absent = join(tempDir('no-certs'), 'server.pem');
    await assert.rejects(startGrpcServer({ listen: '127.0.0.1:0', tls: { cert: absent, key: certs.serverKey }, services: [] }), { message: `cannot read --tls-cert ${absent}: no such file` });
    assert.throws(() => dialOptions({ tls: { ca: absent } }), { message: `cannot read --tls-ca ${absent}: no such file` });
  });
});

describe('startGrpcServer', () => {
  it('listens on a free port for port 0 and says which; refuses a bad address in one line', async () => {
    const { server } = await serve();
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(server.address, '127.0.0.1:0');
    assert.equal(await storeClient(server.address, {}).stat(sha256('nothing')), undefined);
    await assert.rejects(startGrpcServer({ listen: 'localhost', tls: {}, services: [] }), (e: Error) => e instanceof ExpectedError && e.message === 'invalid --listen "localhost": use HOST:PORT (port 0 picks a free one)');
    const [host, port] = server.address.split(':');
    await assert.rejects(startGrpcServer({ listen: `${host}:${port}`, tls: {}, services: [] }), (e: Error) => e instanceof ExpectedError && e.message.startsWith(`cannot listen on ${server.address}: `) && !e.message.includes('\n'));
  });

  it('closes: waits for running calls a short while, then cancels them', async () => {
    const { server } = await serve({ graceMs: 100 });
    const data = Buffer.from('half of it, and the rest never comes');
    // An upload that sends half of its blob and then nothing: the call stays open.
    const client = rawClient(server.address, {});
    const ended = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client.Upload((err) => resolve(err));
      call.write({ header: { digest: sha256(data), size: data.length, offset: 0 } });
      call.write({ data: data.subarray(0, 10) });
    });
    // Bounded only so that a failure ends.
    let held = 0;
    for (let i = 0; i < 200 && held !== 10; i++) held = await new Promise<number>((resolve, reject) => client.Stat({ digest: sha256(data) }, (err, res) => (err ? reject(err) : resolve(res!.uploadOffset))));
    assert.equal(held, 10, 'the upload reached the server');
    const closed = server.close();
    assert.equal(await Promise.race([closed.then(() => 'closed'), new Promise((r) => setImmediate(r, 'waiting'))]), 'waiting', 'close() waits for the running upload');
    await closed;
    const err = await ended;
    assert.ok(err && err.code !== grpc.status.OK, 'the stalled upload ended with an error');
  });
});
