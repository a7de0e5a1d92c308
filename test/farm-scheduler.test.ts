import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256, type Digest } from '../oci/digest.js';
import { parentSnapshot, pickWorker, type WorkerCandidate } from '../coordinator/farm/scheduler.js';
import type { RemoteStepInput } from '../worker/contract/step-io.js';
import type { ExecutableStep } from '../worker/worker.js';

const layer = (name: string) => ({ digest: sha256(`blob ${name}`), diffID: sha256(`tar ${name}`), size: 1, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });

function run(platform: string, name = 'step'): ExecutableStep {
  return {
    key: sha256(name),
    platform,
    inputs: [sha256('parent')],
    kind: 'exec',
    exec: { args: ['true'], env: [], cwd: '/', user: '', network: 'default', security: 'sandbox', rootfs: 0, mounts: [] },
  };
}

function worker(id: string, o: Partial<Omit<WorkerCandidate, 'holds'>> & { held?: Digest[] } = {}): WorkerCandidate {
  const slots = o.slots ?? 2;
  const running = o.running ?? 0;
  const held = new Set(o.held ?? []);
  return { id, native: o.native ?? ['linux/amd64'], emulated: o.emulated ?? [], slots, running, free: o.free ?? slots - running, draining: o.draining ?? false, holds: (d) => held.has(d) };
}

const onBase: RemoteStepInput[] = [{ type: 'rootfs', layers: [layer('base'), layer('parent')] }];

describe('the farm scheduler', () => {
  it('sends a step only to workers that run its platform, natively first', () => {
    const ws = [worker('amd', { native: ['linux/amd64'], emulated: ['linux/arm64'] }), worker('arm', { native: ['linux/arm64/v8'] })];
    assert.deepEqual(pickWorker(run('linux/arm64'), onBase, ws), { kind: 'assign', worker: 'arm', why: 'least-loaded', emulated: false });
    assert.deepEqual(pickWorker(run('linux/amd64'), onBase, ws), { kind: 'assign', worker: 'amd', why: 'least-loaded', emulated: false });
  });

  it('emulates when no native worker has a free slot, and waits when nobody has one', () => {
    const busyNative = [worker('arm', { native: ['linux/arm64'], running: 2 }), worker('amd', { native: ['linux/amd64'], emulated: ['linux/arm64'] })];
    assert.deepEqual(pickWorker(run('linux/arm64'), onBase, busyNative), { kind: 'assign', worker: 'amd', why: 'least-loaded', emulated: true });
    const allBusy = [worker('arm', { native: ['linux/arm64'], running: 2 }), worker('amd', { emulated: ['linux/arm64'], running: 2 })];
    assert.deepEqual(pickWorker(run('linux/arm64'), onBase, allBusy), { kind: 'wait' });
  });

  it('says why a platform nobody runs cannot be scheduled', () => {
    const p = pickWorker(run('linux/s390x'), onBase, [worker('amd', { emulated: ['linux/arm64'] })]);
    assert.deepEqual(p, { kind: 'unschedulable', reason: 'no connected worker runs linux/s390x; connected: amd (linux/amd64, linux/arm64 emulated)' });
    assert.deepEqual(pickWorker(run('linux/amd64'), onBase, []), { kind: 'unschedulable', reason: 'no connected worker runs linux/amd64' });
  });

  it('prefers the worker holding the parent snapshot, even when another is less loaded', () => {
    const ws = [worker('idle'), worker('holder', { running: 1, held: [layer('parent').diffID] }), worker('base-only', { held: [layer('base').diffID] })];
    assert.equal(parentSnapshot(run('linux/amd64'), onBase), layer('parent').diffID);
    assert.deepEqual(pickWorker(run('linux/amd64'), onBase, ws), { kind: 'assign', worker: 'holder', why: 'parent-snapshot', emulated: false });
    // Full holders do not count: the step goes to the least loaded of the others.
    const full = [worker('a', { running: 1 }), worker('holder', { running: 2, held: [layer('parent').diffID] }), worker('b')];
    assert.deepEqual(pickWorker(run('linux/amd64'), onBase, full), { kind: 'assign', worker: 'b', why: 'least-loaded', emulated: false });
  });

  it('picks the least loaded by running/slots, skipping draining workers', () => {
    const ws = [worker('half', { slots: 2, running: 1 }), worker('quarter', { slots: 4, running: 1 }), worker('draining', { draining: true })];
    assert.equal((pickWorker(run('linux/amd64'), onBase, ws) as { worker: string }).worker, 'quarter');
  });

  it('spreads independent steps over idle workers as their load grows', () => {
    const load = new Map([['w1', 0], ['w2', 0], ['w3', 0]]);
    const picks: string[] = [];
    for (let i = 0; i < 6; i++) {
      const ws = [...load].map(([id, running]) => worker(id, { running }));
      const p = pickWorker(run('linux/amd64', `stage ${i}`), [{ type: 'rootfs', layers: [] }], ws);
      assert.equal(p.kind, 'assign');
      const id = (p as { worker: string }).worker;
      picks.push(id);
      load.set(id, load.get(id)! + 1);
    }
    assert.deepEqual(picks, ['w1', 'w2', 'w3', 'w1', 'w2', 'w3']);
  });

  it('takes the parent of a copy from its destination and of a files-only step as none', () => {
    const copy: ExecutableStep = {
      key: sha256('copy'),
      platform: 'linux/amd64',
      inputs: [sha256('ctx'), sha256('dest')],
      kind: 'file',
      file: { action: 'copy', dest: 1, sources: [{ input: 0, paths: ['.'] }], inline: [], destPath: '/', exclude: [], parents: false, unpack: false },
    };
    const files: RemoteStepInput = { type: 'files', origin: 'context', checksum: sha256('tree'), entries: [] };
    assert.equal(parentSnapshot(copy, [files, { type: 'rootfs', layers: [layer('dest')] }]), layer('dest').diffID);
    assert.equal(parentSnapshot({ ...copy, file: { action: 'mkdir', dest: 0, path: '/x', mode: 0o755, user: '' } }, [files]), undefined);
  });
});
