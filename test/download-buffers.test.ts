/**
 * The Content service's download buffers: the in-place encoding of a DownloadResponse must decode,
 * with the protocol's own decoder, to the message given, and a buffer must not be handed out again
 * before the message carrying it has been serialised.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DownloadBuffers, serializeDownload } from '../coordinator/farm/download-buffers.js';
import type { DownloadResponse, DownloadResponse__Output } from '../proto/generated/dockyard/v1/DownloadResponse.js';
import { loadDockyardProto } from '../proto/load.js';

const method = loadDockyardProto().dockyard.v1.Content.service.Download;
const protobufjs = method.responseSerialize as (msg: DownloadResponse) => Buffer;
const decode = method.responseDeserialize as (bytes: Buffer) => DownloadResponse__Output;
const serialize = serializeDownload(protobufjs);

describe('download buffers', () => {
  it('encodes a message in place exactly as protobufjs does, for varints of every length', async () => {
    const buffers = new DownloadBuffers(1, 4096);
    for (const [size, offset, length] of [
      [1, 0, 1],
      [127, 126, 1],
      [128, 0, 128],
      [16_384, 16_383, 1],
      [2 ** 32 + 5, 2 ** 31, 4096],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 4096, 4096],
    ] as const) {
      const into = await buffers.take();
      randomBytes(length).copy(into);
      const data = into.subarray(0, length);
      const msg = { size, offset, data };
      const encoded = Buffer.from(serialize(msg)); // copied, as grpc-js does, before the buffer is reused
      const decoded = decode(encoded);
      assert.deepEqual([decoded.size, decoded.offset], [size, offset]);
      assert.ok(decoded.data.equals(data));
      // protobufjs leaves out fields that hold their default (0); every value here is non-zero but one offset.
      if (offset !== 0) assert.ok(encoded.equals(protobufjs(msg)), `the same bytes as protobufjs for ${size}, ${offset}`);
    }
  });

  it('hands a buffer out again only once the message carrying it has been serialised', async () => {
    const buffers = new DownloadBuffers(1, 1024);
    const first = await buffers.take();
    const second = buffers.take();
    assert.equal(await Promise.race([second, nextTurn().then(() => 'waiting')]), 'waiting', 'the only buffer is still out');
    first.fill(7);
    const encoded = serialize({ size: 1024, offset: 0, data: first });
    assert.equal((await second).buffer, first.buffer, 'the same buffer, after serialisation');
    assert.ok(decode(Buffer.from(encoded)).data.equals(Buffer.alloc(1024, 7)));
  });

  it('leaves a message whose data is not a pool buffer to protobufjs', () => {
    const msg = { size: 10, offset: 5, data: Buffer.from('hello') };
    assert.ok(serialize(msg).equals(protobufjs(msg)));
    const end = { size: 10, offset: 10, data: Buffer.alloc(0) };
    assert.ok(serialize(end).equals(protobufjs(end)));
  });
});
