import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { FollowedSpool } from '../worker/layers/followed-spool.js';
import { tempDir } from './helpers.js';

/** Pieces of odd sizes, some larger than the reader's 1 MiB reads. */
const pieces = (): Buffer[] => [1, 700_000, 3 << 20, 5, 1 << 20, 123_457].map((n) => randomBytes(n));

async function collect(source: AsyncIterable<Buffer>, slow = false): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of source) {
    out.push(Buffer.from(chunk));
    if (slow) await turn();
  }
  return Buffer.concat(out);
}

describe('a spool read while it is written', () => {
  for (const [name, slow] of [['a reader that keeps up', false], ['a reader slower than the writer', true]] as const) {
    it(`${name} gets every byte once, in order, and the file goes at the end`, async () => {
      const spool = await FollowedSpool.create(join(tempDir('spool'), 'layer.tar'));
      const data = pieces();
      const read = collect(spool.read(), slow);
      await pipeline(
        Readable.from(
          (async function* () {
            for (const p of data) {
              yield p;
              await turn();
            }
          })(),
        ),
        spool.writable(),
      );
      assert.deepEqual(await read, Buffer.concat(data));
      assert.equal(existsSync(spool.path), false);
    });
  }

  it('a writer that fails fails the reader, which removes the file', async () => {
    const spool = await FollowedSpool.create(join(tempDir('spool'), 'layer.tar'));
    const read = collect(spool.read());
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(1000);
        await turn();
        throw new Error('the tree changed under the tar');
      })(),
    );
    await assert.rejects(pipeline(failing, spool.writable()), /the tree changed under the tar/);
    await assert.rejects(read, /the tree changed under the tar/);
    assert.equal(existsSync(spool.path), false);
  });

  it('an empty spool reads as nothing', async () => {
    const spool = await FollowedSpool.create(join(tempDir('spool'), 'layer.tar'));
    const read = collect(spool.read());
    await pipeline(Readable.from([]), spool.writable());
    assert.equal((await read).length, 0);
  });
});
