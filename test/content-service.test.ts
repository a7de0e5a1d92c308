/**
 * The coordinator's Content service and its client on loopback: broken uploads and downloads resume
 * from their offset (a TCP proxy breaks the connection part-way), the service checks what it receives
 * against the digest, and partial uploads wait in a spool until they are complete or stale.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { BlobError, putBlob, readBlob, type BlobReader } from '../cache/blob-store.js';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { contentService, DOWNLOAD_CHUNK_BYTES, GET_BLOBS_MAX_BLOB, GET_BLOBS_MAX_TOTAL, type ContentTransfer } from '../coordinator/farm/content-service.js';
import { sha256, type Digest } from '../oci/digest.js';
import type { ContentClient } from '../proto/generated/dockyard/v1/Content.js';
import type { DownloadResponse__Output } from '../proto/generated/dockyard/v1/DownloadResponse.js';
import type { UploadRequest } from '../proto/generated/dockyard/v1/UploadRequest.js';
import { loadDockyardProto } from '../proto/load.js';
import { dialOptions, startGrpcServer } from '../proto/transport.js';
import { breakingProxy } from './grpc-helpers.js';
import { tempDir } from './helpers.js';

const STALE_MS = 60_000;
const running: { close(): unknown }[] = [];
after(async () => {
  for (const r of running.reverse()) await r.close();
});

/** A Content service over a fresh filesystem store, recording every transfer. */
async function serve() {
  const root = tempDir('served');
  const store = new FsBlobStore(root);
  const transfers: ContentTransfer[] = [];
  const service = contentService(store, { spoolDir: tempDir('upload-spool'), staleMs: STALE_MS, onTransfer: (t) => transfers.push(t) });
  const server = await startGrpcServer({ listen: '127.0.0.1:0', tls: {}, token: 'tok', services: [service] });
  running.push(server);
  return { address: server.address, store, root, transfers, spool: service.spool };
}

function storeClient(address: string): ContentBlobStore {
  const s = new ContentBlobStore(address, { token: 'tok' }, { scratchDir: tempDir('spool') });
  running.push(s);
  return s;
}

function rawClient(address: string): ContentClient {
  const { credentials, options } = dialOptions({ token: 'tok' });
  const c = new (loadDockyardProto().dockyard.v1.Content)(address, credentials, options);
  running.push(c);
  return c;
}

/** One Upload call carrying `parts`, and how it ended. */
function upload(client: ContentClient, parts: UploadRequest[]): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    const call = client.Upload((err) => resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '' }));
    for (const p of parts) call.write(p);
    call.end();
  });
}

function stat(client: ContentClient, digest: Digest): Promise<{ exists: boolean; size: number; uploadOffset: number }> {
  return new Promise((resolve, reject) => client.Stat({ digest }, (err, res) => (err ? reject(err) : resolve(res!))));
}

describe('the Content service', () => {
  it('resumes a broken upload from the offset the coordinator holds: the server receives the rest only', async () => {
    const { address, store, transfers } = await serve();
    const proxy = await breakingProxy(address, 'up', 3 << 20);
    running.push(proxy);
    const data = randomBytes(9 << 20);
    const w = storeClient(proxy.address).writer();
    w.end(data);
    assert.deepEqual(await w.commit(), { digest: sha256(data), size: data.length });
    assert.ok(proxy.broken(), 'the connection broke');
    assert.ok((await readBlob(store, sha256(data))).equals(data));

    const uploads = transfers.filter((t) => t.direction === 'upload');
    assert.ok(uploads.length >= 2, JSON.stringify(uploads));
    assert.deepEqual([uploads[0]!.offset, uploads[0]!.complete], [0, false]);
    const last = uploads.at(-1)!;
    assert.ok(last.complete && last.offset > 0, JSON.stringify(last));
    // Every byte reached the spool once: the resumed call sent the rest only.
    assert.equal(
      uploads.reduce((n, t) => n + t.bytes, 0),
      data.length,
    );
    assert.equal(last.bytes, data.length - last.offset);
  });

  it('resumes a broken download from the offset it reached: the server sends the rest only', async () => {
    const { address, store, transfers } = await serve();
    const data = randomBytes(9 << 20);
    const { digest } = await putBlob(store, data);
    const proxy = await breakingProxy(address, 'down', 3 << 20);
    running.push(proxy);
    assert.ok((await readBlob(storeClient(proxy.address), digest)).equals(data));
    assert.ok(proxy.broken(), 'the connection broke');

    const downloads = transfers.filter((t) => t.direction === 'download');
    assert.equal(downloads.length, 2, JSON.stringify(downloads));
    assert.equal(downloads[0]!.offset, 0);
    const resumed = downloads[1]!;
    assert.ok(resumed.complete && resumed.offset > 0 && resumed.offset < data.length, JSON.stringify(resumed));
    assert.equal(resumed.bytes, data.length - resumed.offset);
  });

  it('sends a download from any offset in chunks of at most 1 MiB, each saying where it starts', async () => {
    const { address, store } = await serve();
    const data = randomBytes((2 << 20) + 777);
    const { digest } = await putBlob(store, data);
    const call = rawClient(address).Download({ digest, offset: 1000 });
    const got: DownloadResponse__Output[] = [];
    for await (const msg of call as AsyncIterable<DownloadResponse__Output>) got.push(msg);
    let at = 1000;
    for (const m of got) {
      assert.deepEqual([m.size, m.offset], [data.length, at]);
      assert.ok(m.data.length > 0 && m.data.length <= DOWNLOAD_CHUNK_BYTES);
      at += m.data.length;
    }
    assert.ok(Buffer.concat(got.map((m) => m.data)).equals(data.subarray(1000)));
    const end = rawClient(address).Download({ digest, offset: data.length });
    const tail: DownloadResponse__Output[] = [];
    for await (const msg of end as AsyncIterable<DownloadResponse__Output>) tail.push(msg);
    assert.deepEqual(tail.map((m) => [m.size, m.offset, m.data.length]), [[data.length, data.length, 0]]);
  });

  it('reuses its few read buffers only once each chunk has gone out: a slow reader gets every byte as stored', async () => {
    const { address, store } = await serve();
    const data = randomBytes(9 * DOWNLOAD_CHUNK_BYTES + 4321);
    const { digest } = await putBlob(store, data);
    const got: Buffer[] = [];
    for await (const chunk of storeClient(address).stream(digest)) {
      got.push(chunk as Buffer);
      await sleep(5);
    }
    assert.ok(Buffer.concat(got).equals(data));
  });

  it('ends a download the client cancelled while the service waited for a free read buffer', async () => {
    const { address, store, transfers } = await serve();
    const data = randomBytes(40 * DOWNLOAD_CHUNK_BYTES);
    const { digest } = await putBlob(store, data);
    const call = rawClient(address).Download({ digest, offset: 0 });
    // One message read, then none: the connection's window and the service's buffers fill up.
    await new Promise((resolve) => call.once('data', resolve));
    call.pause();
    call.on('error', () => undefined); // CANCELLED, as asked
    await sleep(200);
    call.cancel();
    for (let i = 0; i < 100 && !transfers.some((t) => t.direction === 'download'); i++) await sleep(50);
    const [download] = transfers.filter((t) => t.direction === 'download');
    assert.ok(download && !download.complete && download.bytes < data.length, JSON.stringify(transfers));
  });

  it('sends a blob damaged in its store as it is, and the receiver refuses it, naming the digest', async () => {
    const { address, store, root } = await serve();
    const data = randomBytes((1 << 20) + 5);
    const { digest } = await putBlob(store, data);
    // The service does not hash what it sends (the receiver does): one hashing per download, not two.
    data[100] = data[100]! ^ 1;
    writeFileSync(join(root, 'blobs', 'sha256', digest.slice(7)), data);
    const call = rawClient(address).Download({ digest, offset: 0 });
    const got: Buffer[] = [];
    for await (const msg of call as AsyncIterable<DownloadResponse__Output>) got.push(msg.data);
    assert.ok(Buffer.concat(got).equals(data), 'the bytes as stored');
    await assert.rejects(readBlob(storeClient(address), digest), (err: Error) => err instanceof BlobError && err.message === `blob ${digest} is corrupt (content hashes to ${sha256(data)})`);
  });

  it('uploads a blob of another store from that store, resuming at the offset the coordinator holds, with nothing spooled', async () => {
    const { address, store, transfers } = await serve();
    const proxy = await breakingProxy(address, 'up', 3 << 20);
    running.push(proxy);
    const source = new FsBlobStore(tempDir('source'));
    const data = randomBytes(9 << 20);
    const { digest } = await putBlob(source, data);
    // Where the upload reads the source: the resumed call reads from the offset the coordinator holds.
    const positions: number[] = [];
    const watched = Object.assign(Object.create(source) as FsBlobStore, {
      openReader: async (d: Digest): Promise<BlobReader> => {
        const reader = await source.openReader(d);
        return { read: (into, position) => (positions.push(position), reader.read(into, position)), close: () => reader.close() };
      },
    });
    const scratch = tempDir('scratch');
    const client = new ContentBlobStore(proxy.address, { token: 'tok' }, { scratchDir: scratch });
    running.push(client);
    assert.deepEqual(await client.putFrom(watched, digest), { digest, size: data.length });
    assert.ok(proxy.broken(), 'the connection broke');
    assert.ok((await readBlob(store, digest)).equals(data));
    const uploads = transfers.filter((t) => t.direction === 'upload');
    assert.ok(uploads.length >= 2 && uploads.at(-1)!.offset > 0, JSON.stringify(uploads));
    assert.equal(uploads.reduce((n, t) => n + t.bytes, 0), data.length, 'the resumed call sent the rest only');
    assert.equal(positions[0], 0);
    assert.ok(positions.includes(uploads.at(-1)!.offset), `read at ${positions.join(', ')}`);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('uploads a file of the client\'s from the file itself; one whose bytes are not its digest is refused, and nothing is visible', async () => {
    const { address, store } = await serve();
    const client = storeClient(address);
    const file = join(tempDir('files'), 'a.bin');
    const data = randomBytes((2 << 20) + 9);
    writeFileSync(file, data);
    assert.deepEqual(await client.putFile(file, sha256(data)), { digest: sha256(data), size: data.length });
    assert.ok((await readBlob(store, sha256(data))).equals(data));
    const claimed = sha256('something else');
    await assert.rejects(client.putFile(file, claimed), (err: Error) => err instanceof BlobError && err.message.startsWith(`content service ${address}: upload ${claimed}: `) && !err.message.includes('\n'));
    assert.equal(await store.stat(claimed), undefined);
  });

  it('refuses an upload whose bytes do not match its digest: DATA_LOSS, nothing visible, nothing kept', async () => {
    const { address, store } = await serve();
    const client = rawClient(address);
    const claimed = sha256('the right bytes');
    const wrong = Buffer.from('the wrong bytes');
    const res = await upload(client, [{ header: { digest: claimed, size: wrong.length, offset: 0 } }, { data: wrong }]);
    assert.deepEqual(res, { code: grpc.status.DATA_LOSS, details: `content does not match its digest: expected ${claimed}, got ${sha256(wrong)}` });
    assert.deepEqual(await stat(client, claimed), { exists: false, size: 0, uploadOffset: 0 });
    assert.equal(await store.stat(claimed), undefined);
    assert.equal(await store.stat(sha256(wrong)), undefined);
  });

  it('keeps an unfinished upload for the next call at its offset; a call at another offset is told where to resume', async () => {
    const { address, store } = await serve();
    const client = rawClient(address);
    const data = Buffer.from('first half|second half');
    const digest = sha256(data);
    const header = (offset: number): UploadRequest => ({ header: { digest, size: data.length, offset } });
    assert.deepEqual(await upload(client, [header(0), { data: data.subarray(0, 11) }]), { code: grpc.status.ABORTED, details: `upload of ${digest} ended at 11 of ${data.length} bytes: resume at 11` });
    assert.deepEqual(await stat(client, digest), { exists: false, size: 0, uploadOffset: 11 });
    assert.deepEqual(await upload(client, [header(0), { data }]), { code: grpc.status.ABORTED, details: `upload of ${digest} starts at 0 but the store holds 11 bytes of it: resume at 11` });
    assert.deepEqual(await upload(client, [header(11), { data: data.subarray(11) }]), { code: grpc.status.OK, details: '' });
    assert.deepEqual(await stat(client, digest), { exists: true, size: data.length, uploadOffset: 0 });
    assert.equal((await readBlob(store, digest)).toString(), 'first half|second half');
  });

  it('removes partial uploads nobody continued for the stale period', async () => {
    const { address, spool } = await serve();
    const client = rawClient(address);
    const data = Buffer.from('abandoned half-way');
    await upload(client, [{ header: { digest: sha256(data), size: data.length, offset: 0 } }, { data: data.subarray(0, 9) }]);
    assert.equal((await stat(client, sha256(data))).uploadOffset, 9);
    await spool.sweep(Date.now() + STALE_MS / 2);
    assert.equal((await stat(client, sha256(data))).uploadOffset, 9, 'kept while fresh');
    await spool.sweep(Date.now() + STALE_MS * 2);
    assert.equal((await stat(client, sha256(data))).uploadOffset, 0, 'removed once stale');
  });

  it('finds the missing blobs among many, each once, in order', async () => {
    const { address, store } = await serve();
    const present = await Promise.all(['a', 'b'].map((t) => putBlob(store, t)));
    const absent = ['x', 'y', 'z'].map((t) => sha256(t));
    const asked = [absent[0]!, present[0]!.digest, absent[1]!, absent[0]!, present[1]!.digest, absent[2]!];
    assert.deepEqual(await storeClient(address).findMissing(asked), absent);
  });

  it('takes many small blobs in one call; one whose bytes are not its digest fails the call with DATA_LOSS naming it, and is not stored', async () => {
    const { address, store, transfers } = await serve();
    const client = storeClient(address);
    const blobs = Array.from({ length: 300 }, (_, i) => Buffer.from(`file ${i}\n`)).map((data) => ({ digest: sha256(data), data }));
    await client.putBlobs(blobs);
    for (const b of blobs) assert.ok((await readBlob(store, b.digest)).equals(b.data));
    assert.equal(transfers.filter((t) => t.direction === 'upload' && t.complete).length, 300);
    const claimed = sha256('the right bytes');
    const good = Buffer.from('another file');
    await assert.rejects(
      client.putBlobs([{ digest: sha256(good), data: good }, { digest: claimed, data: Buffer.from('the wrong bytes') }]),
      (err: Error) => err instanceof BlobError && err.message === `content service ${address}: upload 2 small blobs: content does not match its digest: expected ${claimed}, got ${sha256('the wrong bytes')}`,
    );
    assert.equal(await store.stat(claimed), undefined);
  });

  it('sends small blobs many to a call, in the order asked, up to its total; missing and large ones are left for Download', async () => {
    const { address, store } = await serve();
    const client = storeClient(address);
    const small = await Promise.all(Array.from({ length: 40 }, (_, i) => putBlob(store, randomBytes(200_000 + i))));
    const large = await putBlob(store, randomBytes(GET_BLOBS_MAX_BLOB + 1));
    const absent = sha256('not stored');
    const asked = [large.digest, absent, ...small.map((b) => b.digest)];
    const got = await client.getBlobs(asked);
    // The first blobs that fit within the total, in order: 20 of about 200 kB within 4 MiB.
    const fits = Math.floor(GET_BLOBS_MAX_TOTAL / 200_040);
    assert.deepEqual([...got.keys()], small.slice(0, fits).map((b) => b.digest));
    for (const [digest, data] of got) assert.equal(sha256(data), digest);
    assert.ok(!got.has(large.digest) && !got.has(absent));
  });

  it('refuses a small blob damaged in its store, naming the digest', async () => {
    const { address, store, root } = await serve();
    const data = Buffer.from('a small file');
    const { digest } = await putBlob(store, data);
    writeFileSync(join(root, 'blobs', 'sha256', digest.slice(7)), 'a small fil3');
    await assert.rejects(storeClient(address).getBlobs([digest]), (err: Error) => err instanceof BlobError && err.message === `content service ${address}: blob ${digest} is corrupt (content hashes to ${sha256('a small fil3')})`);
  });
});
