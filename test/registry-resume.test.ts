import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { readBlob } from '../cache/blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { pullBlob } from '../coordinator/registry/manifests.js';
import { RegistryClient } from '../oci/registry/client.js';
import { tempDir } from './helpers.js';

describe('blob downloads', () => {
  it('resume with a Range request where a broken connection stopped, and verify the whole', async () => {
    const data = randomBytes(3_000_000);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}` as const;
    const ranges: number[] = [];
    // A blob endpoint whose first answer breaks after a third of the body.
    const server = createServer((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(200, { 'content-length': data.length }).end();
      const from = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
      ranges.push(from);
      res.writeHead(from ? 206 : 200, { 'content-length': data.length - from });
      if (ranges.length === 1) {
        res.write(data.subarray(0, 1_000_000));
        setTimeout(() => req.socket.destroy(), 50);
      } else res.end(data.subarray(from));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const store = new FsBlobStore(tempDir('resume'));
      const client = new RegistryClient(`127.0.0.1:${(server.address() as AddressInfo).port}`);
      await pullBlob(client, 'team/app', { digest, size: data.length, mediaType: 'application/octet-stream' }, store);
      assert.deepEqual(ranges, [0, 1_000_000]);
      assert.ok((await readBlob(store, digest)).equals(data));
    } finally {
      server.close();
    }
  });
});
