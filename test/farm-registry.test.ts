import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '../oci/digest.js';
import type { CoordinatorMessage } from '../proto/generated/dockyard/v1/CoordinatorMessage.js';
import { WorkerRegistry, type RegistryEvent, type WorkerChannel } from '../coordinator/farm/worker-registry.js';

/** A registry on a clock the test moves, with one connected worker; no network, no timers that matter. */
function setup(slots = 2) {
  let now = 1_000;
  const registry = new WorkerRegistry({ heartbeatTimeoutMs: 5000, sweepIntervalMs: 3_600_000, now: () => now });
  const events: RegistryEvent[] = [];
  registry.subscribe((e) => events.push(e));
  const sent: CoordinatorMessage[] = [];
  const closed: string[] = [];
  const channel: WorkerChannel = { send: (m) => sent.push(m), close: (r) => closed.push(r) };
  const { sessionId } = registry.register({ id: 'w', native: ['linux/amd64'], emulated: [], slots, labels: {}, version: 't' });
  registry.connect('w', sessionId, channel);
  const lost: string[] = [];
  const assign = (taskId: string) =>
    registry.assign('w', { taskId }, [sha256('used')], {
      event: () => undefined,
      lost: (r) => lost.push(`${taskId}: ${r}`),
    });
  return { registry, events, sent, closed, lost, assign, sessionId, tick: (ms: number) => (now += ms) };
}

const hb = (runningTasks: string[], freeSlots: number) => ({ runningTasks, freeSlots, draining: false });

describe('the worker registry', () => {
  it('counts free slots from its own tasks and from what the worker reports for other coordinators', () => {
    const t = setup(4);
    assert.equal(t.registry.candidates()[0]!.free, 4);
    t.assign('t1');
    assert.equal(t.registry.candidates()[0]!.free, 3);
    // The worker runs t1 and two steps of another coordinator: one slot left.
    t.registry.heartbeat('w', t.sessionId, hb(['t1'], 1));
    assert.equal(t.registry.candidates()[0]!.free, 1);
    // A task assigned since that heartbeat is not in its count yet.
    t.assign('t2');
    assert.equal(t.registry.candidates()[0]!.free, 0);
    assert.equal(t.registry.candidates()[0]!.holds(sha256('used')), true);
    t.registry.close();
  });

  it('loses a worker silent for longer than its timeout, with its tasks, and only then', () => {
    const t = setup();
    t.assign('t1');
    t.tick(4000);
    t.registry.sweep();
    assert.deepEqual(t.lost, []);
    t.registry.heartbeat('w', t.sessionId, hb(['t1'], 1));
    t.tick(5001);
    t.registry.sweep();
    assert.deepEqual(t.lost, ['t1: worker w was lost: no heartbeat for 5001 ms (timeout 5000 ms)']);
    assert.deepEqual(t.closed, ['no heartbeat for 5001 ms (timeout 5000 ms)']);
    assert.deepEqual(t.registry.list(), []);
    assert.deepEqual(t.events.at(-1), { type: 'leave', worker: 'w', reason: 'no heartbeat for 5001 ms (timeout 5000 ms)' });
    t.registry.close();
  });

  it('loses a task the worker stops reporting as running, after three heartbeats without it', () => {
    const t = setup();
    t.assign('t1');
    t.assign('t2');
    t.registry.heartbeat('w', t.sessionId, hb(['t2'], 1)); // sent before t1 arrived, perhaps
    t.registry.heartbeat('w', t.sessionId, hb(['t1', 't2'], 0));
    for (let i = 0; i < 3; i++) t.registry.heartbeat('w', t.sessionId, hb(['t1'], 1));
    assert.deepEqual(t.lost, ['t2: worker w was lost: it stopped reporting task t2 as running']);
    assert.equal(t.registry.list()[0]!.connected, true);
    t.registry.close();
  });

  it('ends a task with its result, notes the layers it made, and ignores events of unknown tasks', () => {
    const t = setup();
    const seen: string[] = [];
    t.registry.assign('w', { taskId: 't1' }, [], { event: (e) => seen.push(e.event ?? ''), lost: () => seen.push('lost') });
    t.registry.event('w', t.sessionId, { taskId: 'other', event: 'log', log: { line: 'x' } });
    t.registry.event('w', t.sessionId, { taskId: 't1', event: 'log', log: { line: 'x' } });
    t.registry.event('w', t.sessionId, { taskId: 't1', event: 'result', result: { layers: [{ digest: sha256('b'), diffId: sha256('made'), size: 1, mediaType: 'm', gzipOnExport: false }], emptyLayer: false } });
    t.registry.event('w', t.sessionId, { taskId: 't1', event: 'log', log: { line: 'late' } });
    assert.deepEqual(seen, ['log', 'result']);
    assert.equal(t.registry.candidates()[0]!.holds(sha256('made')), true);
    assert.equal(t.registry.candidates()[0]!.free, 2);
    t.registry.close();
  });

  it('drops the old session when a worker registers again, and refuses the stale session afterwards', () => {
    const t = setup();
    t.assign('t1');
    const again = t.registry.register({ id: 'w', native: ['linux/amd64'], emulated: [], slots: 2, labels: {}, version: 't' });
    assert.notEqual(again.sessionId, t.sessionId);
    assert.deepEqual(t.lost, ['t1: worker w was lost: it registered again (a new session replaces the old one)']);
    assert.equal(t.registry.heartbeat('w', t.sessionId, hb([], 2)), false);
    assert.equal(t.registry.connect('w', t.sessionId, { send: () => undefined, close: () => undefined }), undefined);
    // Registered but not connected yet: not a candidate.
    assert.deepEqual(t.registry.candidates(), []);
    t.registry.close();
  });
});
