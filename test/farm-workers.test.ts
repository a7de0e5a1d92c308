import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { putBlob, readBlob } from '../cache/blob-store.js';
import type { LayerRecord } from '../cache/cache-index.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { RemoteStepError, RemoteWorkers } from '../coordinator/farm/remote-workers.js';
import { WorkerRegistry } from '../coordinator/farm/worker-registry.js';
import { workerService } from '../coordinator/farm/worker-service.js';
import { RedisCacheIndex } from '../cache/redis-cache-index.js';
import { StepLocks } from '../coordinator/queue/step-locks.js';
import type { Redis } from 'ioredis';
import { sha256, type Digest } from '../oci/digest.js';
import type { CoordinatorMessage__Output } from '../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { StepAssignment__Output } from '../proto/generated/dockyard/v1/StepAssignment.js';
import type { WorkerClient } from '../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage } from '../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../proto/load.js';
import { dialOptions, startGrpcServer, type StartedServer } from '../proto/transport.js';
import { tokenClientInterceptor } from '../proto/auth.js';
import { PROTOCOL_VERSION, protocolClientInterceptor } from '../proto/protocol.js';
import { decodeStepInput, encodeStepResult } from '../worker/contract/io-codec.js';
import { decodeStep } from '../worker/contract/step-codec.js';
import type { RemoteStepInput } from '../worker/contract/step-io.js';
import type { ExecMount } from '../worker/step.js';
import type { ExecutableStep, StepContext } from '../worker/worker.js';
import { makeDir, tempDir } from './helpers.js';
import { startRedis, type TestRedis } from './redis-helpers.js';
import { settleLayers } from '../worker/layer.js';

const proto = loadDockyardProto();
const gz = 'application/vnd.oci.image.layer.v1.tar+gzip';
const TOKEN = 'farm-test-token';

/** What a fake worker does with an assignment; it may answer later through `worker.send`. */
type Behaviour = (a: StepAssignment__Output, w: FakeWorker) => void | Promise<void>;

/**
 * A worker as the coordinator sees one: a grpc-js client of the Worker service that registers,
 * connects, heartbeats, and does with each assignment what the test says. It "uploads" the blobs of
 * the layers it reports by writing them into the coordinator's store, as a real worker does through
 * the Content service.
 */
class FakeWorker {
  readonly assignments: StepAssignment__Output[] = [];
  readonly messages: CoordinatorMessage__Output[] = [];
  /** Tasks assigned and not yet answered with a result or failure, as its heartbeats report them. */
  private readonly running = new Set<string>();
  private readonly client: WorkerClient;
  private call: grpc.ClientDuplexStream<WorkerMessage, CoordinatorMessage__Output> | undefined;
  private beat: NodeJS.Timeout | undefined;
  readonly ended: Promise<grpc.ServiceError | undefined>;
  private endedWith!: (e: grpc.ServiceError | undefined) => void;
  private readonly waiters: { test: (m: CoordinatorMessage__Output) => boolean; resolve: (m: CoordinatorMessage__Output) => void }[] = [];

  constructor(
    address: string,
    readonly id: string,
    private readonly o: { native?: string[]; emulated?: string[]; slots?: number; behaviour: Behaviour; store: FsBlobStore },
  ) {
    const { credentials, options } = dialOptions({ token: TOKEN });
    this.client = new proto.dockyard.v1.Worker(address, credentials, options);
    this.ended = new Promise((r) => (this.endedWith = r));
  }

  async start(): Promise<this> {
    const reg = await new Promise<{ sessionId: string; heartbeatIntervalMs: number }>((resolve, reject) =>
      this.client.Register({ workerId: this.id, nativePlatforms: this.o.native ?? ['linux/amd64'], emulatedPlatforms: this.o.emulated ?? [], slots: this.o.slots ?? 2, labels: {}, version: 'test' }, (err, res) =>
        err ? reject(err) : resolve(res!),
      ),
    );
    const call = this.client.Connect();
    this.call = call;
    call.on('data', (m: CoordinatorMessage__Output) => {
      this.messages.push(m);
      for (const w of [...this.waiters]) if (w.test(m)) (this.waiters.splice(this.waiters.indexOf(w), 1), w.resolve(m));
      if (m.message === 'assign') {
        this.assignments.push(m.assign!);
        this.running.add(m.assign!.taskId);
        void this.o.behaviour(m.assign!, this);
      }
    });
    call.on('error', (e: grpc.ServiceError) => this.endedWith(e));
    call.on('end', () => this.endedWith(undefined));
    call.write({ hello: { workerId: this.id, sessionId: reg.sessionId } });
    const heartbeat = (): void => {
      call.write({ heartbeat: { runningTasks: [...this.running], freeSlots: Math.max(0, (this.o.slots ?? 2) - this.running.size), draining: false } });
    };
    heartbeat();
    this.beat = setInterval(heartbeat, reg.heartbeatIntervalMs);
    await this.next((m) => m.message === 'heartbeatAck'); // connected and known
    return this;
  }

  /** The next message from the coordinator that passes `test` (or one already received). */
  next(test: (m: CoordinatorMessage__Output) => boolean): Promise<CoordinatorMessage__Output> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  send(taskId: string, event: Omit<NonNullable<WorkerMessage['event']>, 'taskId'>): void {
    if (event.result || event.failure) this.running.delete(taskId);
    this.call!.write({ event: { taskId, ...event } });
  }

  /** Reports `names` as new layers on top of the inputs' rootfs, their blobs put into the store first. */
  async succeed(a: StepAssignment__Output, names: string[]): Promise<LayerRecord[]> {
    const base = a.inputs.map(decodeStepInput).flatMap((i) => (i.type === 'rootfs' ? i.layers : []));
    const layers = [...base];
    for (const n of names) {
      const { digest, size } = await putBlob(this.o.store, `layer ${n}`);
      layers.push({ digest, diffID: sha256(`tar ${n}`), size, mediaType: gz });
    }
    this.send(a.taskId, { result: encodeStepResult({ layers, emptyLayer: names.length === 0 }) });
    return layers;
  }

  /** Goes silent: no heartbeat, no answer, the stream left open (a hung or partitioned machine). */
  silence(): void {
    clearInterval(this.beat);
  }

  close(): void {
    clearInterval(this.beat);
    this.call?.end();
    this.client.close();
  }
}

let counter = 0;
function runStep(platform = 'linux/amd64', mounts: ExecMount[] = []): ExecutableStep {
  return {
    key: sha256(`step ${++counter}`),
    platform,
    inputs: [sha256('parent'), sha256('context')],
    kind: 'exec',
    exec: { args: ['sh', '-c', 'make'], env: [], cwd: '/', user: '', network: 'default', security: 'sandbox', rootfs: 0, mounts },
  };
}

const baseLayer: LayerRecord = { digest: sha256('base blob'), diffID: sha256('base tar'), size: 9, mediaType: gz };

function context(logs: string[] = [], secrets: Record<string, string> = {}, signal?: AbortSignal): StepContext {
  return { log: (l) => logs.push(l), secrets: { get: async (id) => (id in secrets ? Buffer.from(secrets[id]!) : undefined) }, ...(signal ? { signal } : {}) };
}

describe('RemoteWorkers over the Worker service on loopback', () => {
  let server: StartedServer;
  let address: string;
  let registry: WorkerRegistry;
  let store: FsBlobStore;
  const fakes: FakeWorker[] = [];
  const fake = async (id: string, o: Omit<ConstructorParameters<typeof FakeWorker>[2], 'store'>): Promise<FakeWorker> => {
    const w = new FakeWorker(address, id, { ...o, store });
    fakes.push(w);
    return w.start();
  };
  /** Closes the fake workers a test started; the registry forgets them. */
  const closeFakes = async (): Promise<void> => {
    for (const w of fakes.splice(0)) {
      w.close();
      await w.ended;
    }
  };

  before(async () => {
    store = new FsBlobStore(tempDir('farm-store'));
    await putBlob(store, 'base blob'); // the inputs' layers are in the shared store
    registry = new WorkerRegistry({ sweepIntervalMs: 20 });
    const svc = workerService(registry, { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 1500 });
    server = await startGrpcServer({ listen: '127.0.0.1:0', tls: {}, token: TOKEN, services: [svc], graceMs: 100 });
    address = server.address;
  });
  after(async () => {
    await closeFakes();
    registry.close();
    await server.close();
  });

  it('assigns a step with its inputs as data, relays its logs and returns its layers', async () => {
    const w = await fake('w1', {
      behaviour: async (a, self) => {
        self.send(a.taskId, { log: { line: 'compiling' } });
        await self.succeed(a, ['new']);
      },
    });
    const remote = new RemoteWorkers(registry, store);
    const dir = makeDir({ 'src/main.c': 'int main;', 'README': 'hi', 'ignored.txt': 'no' });
    const step = runStep();
    // A pending layer (still compressing) is settled before the step leaves.
    const pending = { diffID: baseLayer.diffID, record: Promise.resolve(baseLayer) };
    const logs: string[] = [];
    const out = await remote.execute(step, [{ type: 'rootfs', layers: [pending] }, { type: 'local', dir, allowed: new Set(['src', 'src/main.c', 'README']) }], context(logs));
    await closeFakes();

    assert.deepEqual(logs, ['compiling']);
    assert.equal(out.emptyLayer, false);
    assert.deepEqual(out.layers, [baseLayer, { digest: sha256('layer new'), diffID: sha256('tar new'), size: 9, mediaType: gz }]);
    const a = w.assignments[0]!;
    assert.deepStrictEqual(decodeStep(a.step!), step);
    const [rootfs, files] = a.inputs.map(decodeStepInput) as [RemoteStepInput, Extract<RemoteStepInput, { type: 'files' }>];
    assert.deepEqual(rootfs, { type: 'rootfs', layers: [baseLayer] });
    assert.deepEqual(
      files.entries.map((e) => [e.path, e.type, e.digest]),
      [
        ['README', 'file', sha256('hi')],
        ['src', 'dir', undefined],
        ['src/main.c', 'file', sha256('int main;')],
      ],
    );
    // The selected files' contents are in the shared store, the rest are not.
    assert.equal((await readBlob(store, sha256('int main;'))).toString(), 'int main;');
    assert.equal(await store.stat(sha256('no')), undefined);
    remote.close();
  });

  it('gives the checksum of a file tree by its entries, and puts only contents the store lacks', async () => {
    const seen: string[] = [];
    await fake('w1', {
      behaviour: async (a, self) => {
        const files = decodeStepInput(a.inputs[1]!);
        seen.push(files.type === 'files' ? files.checksum : 'not a file tree');
        await self.succeed(a, []);
      },
    });
    // The coordinator's store, counting what it is asked to write.
    const written: (string | undefined)[] = [];
    const counting: FsBlobStore = Object.assign(Object.create(store) as FsBlobStore, { writer: (d?: Digest) => (written.push(d), store.writer(d)) });
    const remote = new RemoteWorkers(registry, counting);
    for (const content of ['one', 'one', 'two']) {
      const dir = makeDir({ 'f.txt': content });
      await remote.execute(runStep(), [{ type: 'rootfs', layers: [baseLayer] }, { type: 'local', dir, allowed: new Set(['f.txt']) }], context());
    }
    await closeFakes();
    remote.close();
    assert.equal(seen[0], seen[1]);
    assert.notEqual(seen[0], seen[2]);
    // A content the store has is not sent again.
    assert.deepEqual(written, [sha256('one'), sha256('two')]);
  });

  it('sends a step to a worker of its platform', async () => {
    const amd = await fake('amd', { native: ['linux/amd64'], behaviour: (a, self) => void self.succeed(a, ['amd']) });
    const arm = await fake('arm', { native: ['linux/arm64'], behaviour: (a, self) => void self.succeed(a, ['arm']) });
    const remote = new RemoteWorkers(registry, store);
    const outArm = await remote.execute(runStep('linux/arm64'), [{ type: 'rootfs', layers: [] }], context());
    const outAmd = await remote.execute(runStep('linux/amd64'), [{ type: 'rootfs', layers: [] }], context());
    await closeFakes();
    remote.close();
    assert.equal((await settleLayers(outArm.layers)).at(-1)!.diffID, sha256('tar arm'));
    assert.equal((await settleLayers(outAmd.layers)).at(-1)!.diffID, sha256('tar amd'));
    assert.deepEqual([amd.assignments.length, arm.assignments.length], [1, 1]);
  });

  it('prefers the worker that made the parent snapshot, and otherwise the least loaded', async () => {
    const held: ((names: string[]) => void)[] = [];
    // Each worker holds its steps until the test releases them, so that load is visible.
    const holding: Behaviour = (a, self) => void held.push((names) => void self.succeed(a, names));
    const a = await fake('a', { slots: 2, behaviour: holding });
    const b = await fake('b', { slots: 2, behaviour: holding });
    const remote = new RemoteWorkers(registry, store);

    // Both idle: the first goes to `a` (tie broken by id); the second to `b`, now the less loaded.
    const first = remote.execute(runStep(), [{ type: 'rootfs', layers: [baseLayer] }], context());
    await a.next((m) => m.message === 'assign');
    const second = remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context());
    await b.next((m) => m.message === 'assign');
    assert.deepEqual([a.assignments.length, b.assignments.length], [1, 1]);
    held.shift()!([]);
    held.shift()!(['parent-on-b']);
    await first;
    const parent = await second;

    // `b` made the child's parent: the child goes there although both are idle and a tie goes to `a`;
    // then a step on an empty filesystem goes to the less loaded, `a`.
    const child = remote.execute(runStep(), [{ type: 'rootfs', layers: parent.layers }], context());
    await b.next((m) => m.message === 'assign' && m.assign!.taskId !== b.assignments[0]!.taskId);
    const other = remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context());
    await a.next((m) => m.message === 'assign' && m.assign!.taskId !== a.assignments[0]!.taskId);
    assert.deepEqual([a.assignments.length, b.assignments.length], [2, 2]);
    assert.deepEqual(decodeStepInput(b.assignments[1]!.inputs[0]!), { type: 'rootfs', layers: parent.layers });
    held.splice(0).forEach((h) => h([]));
    await Promise.all([child, other]);
    await closeFakes();
    remote.close();
  });

  it('reassigns the step of a worker that stops heartbeating to another worker', async () => {
    const silent = await fake('silent', { behaviour: (_a, self) => self.silence() });
    const remote = new RemoteWorkers(registry, store, { retries: 1 });
    const logs: string[] = [];
    const done = remote.execute(runStep(), [{ type: 'rootfs', layers: [baseLayer] }], context(logs));
    await silent.next((m) => m.message === 'assign');
    const healthy = await fake('healthy', { behaviour: (a, self) => void self.succeed(a, ['rescued']) });
    const out = await done;
    assert.equal((await settleLayers(out.layers)).at(-1)!.diffID, sha256('tar rescued'));
    assert.equal(healthy.assignments.length, 1);
    assert.notEqual(healthy.assignments[0]!.taskId, silent.assignments[0]!.taskId);
    assert.match(logs.join('\n'), /worker silent was lost: no heartbeat for \d+ ms \(timeout 1500 ms\); running the step again elsewhere/);
    // The silent worker's stream was closed, telling it to register again.
    assert.equal((await silent.ended)?.code, grpc.status.UNAVAILABLE);
    assert.deepEqual(registry.list().map((w) => w.id), ['healthy']);
    await closeFakes();
    remote.close();
  });

  it('gives a secret only to the step that mounts it, and never logs a value', async () => {
    const answers = new Map<string, { found: boolean; value: string }>();
    await fake('w', {
      behaviour: async (a, self) => {
        for (const id of ['tok', 'other']) self.send(a.taskId, { secretRequest: { requestId: `r-${id}`, secretId: id } });
        for (const id of ['tok', 'other']) {
          const m = await self.next((x) => x.message === 'secret' && x.secret!.requestId === `r-${id}`);
          answers.set(id, { found: m.secret!.found, value: m.secret!.value.toString() });
        }
        await self.succeed(a, []);
      },
    });
    const remote = new RemoteWorkers(registry, store);
    const logs: string[] = [];
    const step = runStep('linux/amd64', [{ type: 'secret', id: 'tok', required: true, mode: 0o400, uid: 0, gid: 0 }]);
    const out = await remote.execute(step, [{ type: 'rootfs', layers: [baseLayer] }], context(logs, { tok: 's3cret', other: 'not yours' }));
    await closeFakes();
    remote.close();
    assert.equal(out.emptyLayer, true);
    assert.deepEqual([...answers], [
      ['tok', { found: true, value: 's3cret' }],
      ['other', { found: false, value: '' }],
    ]);
    assert.deepEqual(logs, ['# refused secret "other": this step does not mount it']);
  });

  it('turns a failure into an error with the output tail, and cancels a step on the worker', async () => {
    await fake('w', {
      behaviour: (a, self) => {
        const step = decodeStep(a.step!);
        if (step.kind === 'exec' && step.exec.args[2] === 'fail') self.send(a.taskId, { failure: { message: 'process "make" exited with code 2', tail: ['cc: error', 'make: *** [all] Error 2'] } });
      },
    });
    const remote = new RemoteWorkers(registry, store);
    const failing = runStep();
    if (failing.kind === 'exec') failing.exec = { ...failing.exec, args: ['sh', '-c', 'fail'] };
    await assert.rejects(remote.execute(failing, [{ type: 'rootfs', layers: [] }], context()), (e: unknown) => e instanceof RemoteStepError && e.message === 'process "make" exited with code 2' && e.tail.join('|') === 'cc: error|make: *** [all] Error 2');

    const ac = new AbortController();
    const w = fakes[0]!;
    const running = remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context([], {}, ac.signal));
    const assigned = await w.next((m) => m.message === 'assign' && m.assign!.taskId !== w.assignments[0]!.taskId);
    ac.abort(new Error('build cancelled by the user'));
    await assert.rejects(running, /build cancelled by the user/);
    const cancel = await w.next((m) => m.message === 'cancel');
    assert.deepEqual({ ...cancel.cancel }, { taskId: assigned.assign!.taskId, reason: 'build cancelled by the user' });
    await closeFakes();
    remote.close();
  });

  it('keeps a step of a platform nobody runs waiting until a worker of it joins', async () => {
    const remote = new RemoteWorkers(registry, store);
    const done = remote.execute(runStep('linux/riscv64'), [{ type: 'rootfs', layers: [] }], context());
    const w = await fake('late', { native: ['linux/riscv64'], behaviour: (a, self) => void self.succeed(a, ['late']) });
    assert.equal((await settleLayers((await done).layers)).at(-1)!.diffID, sha256('tar late'));
    assert.equal(w.assignments.length, 1);
    await closeFakes();
    remote.close();
  });

  it('queues a step while every slot is taken and assigns it when a slot is released', async () => {
    const finish: (() => void)[] = [];
    const w = await fake('single', { slots: 1, behaviour: (a, self) => void finish.push(() => void self.succeed(a, [a.taskId])) });
    const remote = new RemoteWorkers(registry, store);
    const first = remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context());
    await w.next((m) => m.message === 'assign');
    const second = remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context());
    // Heartbeats come and go; the second step stays queued while the first holds the only slot.
    const acks = w.messages.filter((m) => m.message === 'heartbeatAck').length;
    await w.next((m) => m.message === 'heartbeatAck' && w.messages.filter((x) => x.message === 'heartbeatAck').length >= acks + 2);
    assert.equal(w.assignments.length, 1);
    finish.shift()!();
    await first;
    await w.next((m) => m.message === 'assign' && m.assign!.taskId !== w.assignments[0]!.taskId);
    finish.shift()!();
    await second;
    assert.equal(w.assignments.length, 2);
    await closeFakes();
    remote.close();
  });

  it('tries again when a worker turns a step away for lack of a slot', async () => {
    const w = await fake('picky', {
      behaviour: (a, self) => {
        if (self.assignments.length === 1) self.send(a.taskId, { failure: { message: 'worker picky has no free slot', tail: [], refused: true } });
        else void self.succeed(a, ['accepted']);
      },
    });
    const remote = new RemoteWorkers(registry, store);
    const out = await remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context());
    assert.equal((await settleLayers(out.layers)).at(-1)!.diffID, sha256('tar accepted'));
    assert.equal(w.assignments.length, 2);
    await closeFakes();
    remote.close();
  });

  it('replaces the session of a worker that registers again: the old stream closes and its step goes to the new one', async () => {
    const old = await fake('same', { behaviour: () => undefined });
    const remote = new RemoteWorkers(registry, store);
    const done = remote.execute(runStep(), [{ type: 'rootfs', layers: [] }], context());
    await old.next((m) => m.message === 'assign');
    const again = await fake('same', { behaviour: (a, self) => void self.succeed(a, ['again']) });
    assert.equal((await settleLayers((await done).layers)).at(-1)!.diffID, sha256('tar again'));
    const err = await old.ended;
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
    assert.equal(err?.details, 'it registered again (a new session replaces the old one)');
    assert.equal(again.assignments.length, 1);
    await closeFakes();
    remote.close();
  });

  it('refuses a Connect whose first message names no live session', async () => {
    const { credentials, options } = dialOptions({ token: TOKEN });
    const client = new proto.dockyard.v1.Worker(address, credentials, options);
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.Connect();
      call.on('data', () => undefined);
      call.on('error', resolve);
      call.write({ hello: { workerId: 'ghost', sessionId: 'made-up' } });
    });
    client.close();
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'worker ghost has no session made-up (expired or replaced): register again');
  });

  it('refuses to register a worker of another protocol version, naming both versions', async () => {
    const client = new proto.dockyard.v1.Worker(address, grpc.credentials.createInsecure(), { interceptors: [tokenClientInterceptor(TOKEN), protocolClientInterceptor(PROTOCOL_VERSION + 1)] });
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.Register({ workerId: 'future', nativePlatforms: ['linux/amd64'], slots: 1 }, (e) => resolve(e)));
    client.close();
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    assert.match(err?.details ?? '', new RegExp(`^incompatible worker: it speaks Dockyard protocol ${PROTOCOL_VERSION + 1}, this coordinator speaks Dockyard protocol ${PROTOCOL_VERSION} `));
    assert.equal(registry.list().some((w) => w.id === 'future'), false);
  });

  it('refuses to register a worker without the token', async () => {
    const { credentials, options } = dialOptions({ token: 'wrong' });
    const client = new proto.dockyard.v1.Worker(address, credentials, options);
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.Register({ workerId: 'intruder', nativePlatforms: ['linux/amd64'], slots: 1 }, (e) => resolve(e)));
    client.close();
    assert.equal(err?.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(registry.list().map((w) => w.id).includes('intruder'), false);
  });
});

describe('identical steps through two coordinators sharing Redis', () => {
  let redis: TestRedis;
  const coordinators: { registry: WorkerRegistry; server: StartedServer; locks: StepLocks; conn: Redis }[] = [];
  const workers: FakeWorker[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const w of workers) w.close();
    for (const c of coordinators) {
      c.registry.close();
      await c.server.close();
      c.locks.close();
      c.conn.disconnect();
    }
    await redis.close();
  });

  it('run once: the second coordinator waits for the first and takes its recorded result', async () => {
    const store = new FsBlobStore(tempDir('farm-shared-store'));
    await putBlob(store, 'base blob');
    const release: (() => void)[] = [];
    const remotes: RemoteWorkers[] = [];
    for (const name of ['c1', 'c2']) {
      const registry = new WorkerRegistry();
      const server = await startGrpcServer({ listen: '127.0.0.1:0', tls: {}, token: TOKEN, services: [workerService(registry)], graceMs: 100 });
      const conn = redis.connect();
      const locks = new StepLocks(conn, { prefix: '{farm-test}' });
      coordinators.push({ registry, server, locks, conn });
      const w = new FakeWorker(server.address, `${name}-worker`, { store, behaviour: (a, self) => void release.push(() => void self.succeed(a, ['shared'])) });
      workers.push(await w.start());
      remotes.push(new RemoteWorkers(registry, store, { dedupe: { locks, index: new RedisCacheIndex(conn, { prefix: '{farm-test}' }) } }));
    }
    const step = runStep();
    const inputs = [{ type: 'rootfs' as const, layers: [baseLayer] }];
    const first = remotes[0]!.execute(step, inputs, context());
    await workers[0]!.next((m) => m.message === 'assign');
    const logs: string[] = [];
    let waiting!: () => void;
    const waited = new Promise<void>((r) => (waiting = r));
    const second = remotes[1]!.execute(step, inputs, { ...context(), log: (l) => (logs.push(l), waiting()) });
    await waited;
    release.shift()!();
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(b, a);
    assert.deepEqual(logs, ['# waiting for another build that runs the same step']);
    assert.deepEqual(workers.map((w) => w.assignments.length), [1, 0]);
    for (const r of remotes) r.close();
  });
});
