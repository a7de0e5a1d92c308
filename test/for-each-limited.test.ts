import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachLimited } from '../oci/for-each-limited.js';

describe('forEachLimited', () => {
  it('runs every item, never more than n at once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimited([...Array(20).keys()], 3, async (x, i) => {
      running++;
      most = Math.max(most, running);
      await sleep(1);
      seen[i] = x * 2;
      running--;
    });
    assert.equal(most, 3);
    assert.deepEqual(seen, [...Array(20).keys()].map((x) => x * 2));
  });

  it('starts nothing after a failure, and throws it only once the running items have ended', async () => {
    const started: number[] = [];
    let ended = 0;
    await assert.rejects(
      forEachLimited([...Array(10).keys()], 3, async (x) => {
        started.push(x);
        if (x === 1) throw new Error('item 1 failed');
        await sleep(20);
        ended++;
      }),
      /item 1 failed/,
    );
    assert.deepEqual(started, [0, 1, 2]);
    assert.equal(ended, 2, 'items 0 and 2 had ended when the failure was thrown');
  });
});
