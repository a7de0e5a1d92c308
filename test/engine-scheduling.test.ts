import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, freshCache, requireTools, rootfsFile, singlePlatform, stepStates, unpack } from './engine-helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

// Two independent stages that each take a second, and a third identical to the first.
const dockerfile = [
  'FROM busybox AS a',
  'RUN sleep 1 && cut -d" " -f1 /proc/uptime > /t',
  'FROM busybox AS b',
  'RUN sleep 1 && cut -d" " -f1 /proc/uptime > /t && echo b > /name',
  'FROM busybox AS a2',
  'RUN sleep 1 && cut -d" " -f1 /proc/uptime > /t',
  'FROM busybox',
  'COPY --from=a /t /a',
  'COPY --from=b /t /b',
  'COPY --from=a2 /t /a2',
].join('\n');

function run(parallelism: string) {
  const t0 = Date.now();
  const r = buildOci({ Dockerfile: dockerfile }, ['--max-parallelism', parallelism], { cache: freshCache() });
  assert.equal(r.status, 0, r.stderr);
  const fs = unpack(singlePlatform(r.layout, 'amd64'));
  const times = ['a', 'b', 'a2'].map((f) => Number(rootfsFile(fs, f)));
  return { ms: Date.now() - t0, times, ran: stepStates(r.stderr).ran };
}

describe('scheduling inside one build', () => {
  it('runs independent stages at the same time and identical work once', () => {
    const r = run('2');
    assert.equal(r.ran.filter((s) => s.includes('RUN sleep 1')).length, 2, `identical RUNs collapse into one: ${r.ran.join(' | ')}`);
    assert.equal(r.times[0], r.times[2], 'a and a2 are the same step, so the same result');
    assert.ok(Math.abs(r.times[0]! - r.times[1]!) < 0.6, `a and b finished ${Math.abs(r.times[0]! - r.times[1]!)}s apart: they should run together`);
  });

  it('honours --max-parallelism', () => {
    const r = run('1');
    assert.ok(Math.abs(r.times[0]! - r.times[1]!) >= 0.9, 'with one slot, the two sleeps run one after the other');
  });
});
