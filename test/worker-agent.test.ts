import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { putBlob, type BlobReader, type BlobStore } from '../cache/blob-store.js';
import type { LayerRecord } from '../cache/cache-index.js';
import type { Digest } from '../oci/digest.js';
import { decodeStepResult } from '../worker/contract/io-codec.js';
import type { RemoteStepInput, TreeEntry } from '../worker/contract/step-io.js';
import type { Step } from '../worker/step.js';
import { busyboxLayout } from './engine-helpers.js';
import { cliPath, freePort, makeDir, plan, tempDir } from './helpers.js';
import { makeCertificates } from './registry-helpers.js';
import { TestCoordinator } from './test-coordinator.js';

const SECRET = 'S3CRET-worker-agent-7f3a9c';
const TOKEN = 'farm-token-for-tests';

interface Json {
  [k: string]: unknown;
}
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;

/** The linux/amd64 image of the busybox layout as a layer chain, its blobs copied into `store`. */
async function busyboxChain(store: FsBlobStore): Promise<LayerRecord[]> {
  const layout = busyboxLayout();
  const blob = (d: string): string => join(layout, 'blobs', 'sha256', d.slice(7));
  let desc = (readJson(join(layout, 'index.json')).manifests as Json[])[0]!;
  while ((desc.mediaType as string).includes('index')) desc = (readJson(blob(desc.digest as string)).manifests as Json[]).find((m) => (m.platform as Json).architecture === 'amd64')!;
  const manifest = readJson(blob(desc.digest as string));
  const diffIDs = (readJson(blob((manifest.config as Json).digest as string)).rootfs as Json).diff_ids as Digest[];
  const layers = manifest.layers as Json[];
  const chain: LayerRecord[] = [];
  for (const [i, l] of layers.entries()) {
    await putBlob(store, readFileSync(blob(l.digest as string)));
    chain.push({ digest: l.digest as Digest, diffID: diffIDs[i]!, size: l.size as number, mediaType: l.mediaType as string });
  }
  return chain;
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

/** A started `dockyard worker` and everything it printed. */
interface WorkerProcess {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function startWorker(args: string[], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, [cliPath, 'worker', ...args], { env: { ...process.env, DOCKYARD_DEBUG: '', DOCKYARD_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const w: WorkerProcess = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (b: Buffer) => (w.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (w.stderr += b.toString()));
  return w;
}

/** Resolves with the first stdout line, or fails with what the worker said when it exits first. */
function firstLine(w: WorkerProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (w.stdout.includes('\n')) resolve(w.stdout.split('\n')[0]!);
    };
    w.child.stdout!.on('data', check);
    void w.exited.then((code) => reject(new Error(`worker exited ${code}: ${w.stderr}`)));
    check();
  });
}

/** Resolves once the worker has written `text` to stderr. */
function saidOnStderr(w: WorkerProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => void (w.stderr.includes(text) && resolve());
    w.child.stderr!.on('data', check);
    check();
  });
}

/** The files of a layer blob (a tar, gzipped or not), extracted by tar. */
function extractLayer(storeDir: string, digest: Digest): string {
  const dir = tempDir('layer');
  const r = spawnSync('tar', ['-xf', join(storeDir, 'blobs', 'sha256', digest.slice(7)), '-C', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const context = { 'hello.txt': 'hello from the context\n' };

/** A coordinator's store holding the busybox chain and the context file. */
async function seededStore(): Promise<{ storeDir: string; store: FsBlobStore; chain: LayerRecord[]; contextDigest: Digest }> {
  const storeDir = tempDir('coordinator-store');
  const store = new FsBlobStore(storeDir);
  const chain = await busyboxChain(store);
  const contextDigest = (await putBlob(store, context['hello.txt'])).digest;
  return { storeDir, store, chain, contextDigest };
}

/** The planned RUN of `run` (mounting the context and the secret `tok`) on busybox, with its inputs. */
async function runStep(run: string, seed: { chain: LayerRecord[]; contextDigest: Digest }): Promise<{ step: Step; inputs: RemoteStepInput[] }> {
  const dir = makeDir(context);
  const p = await plan(`FROM busybox\nRUN --mount=type=bind,target=/ctx --mount=type=secret,id=tok ${run}\n`, { contextDir: dir, secretIds: new Set(['tok', 'other']) });
  const step = p.steps.find((s) => s.kind === 'exec')!;
  const inputs = step.inputs.map((key): RemoteStepInput => {
    const src = p.steps.find((s) => s.key === key)!;
    assert.equal(src.kind, 'source');
    if (src.kind === 'source' && src.source.type === 'context') {
      return { type: 'files', origin: 'context', checksum: src.source.checksum, entries: [{ path: 'hello.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, size: context['hello.txt'].length, digest: seed.contextDigest }] };
    }
    return { type: 'rootfs', layers: seed.chain };
  });
  return { step, inputs };
}

/** Resolves when task `taskId` logs `line`. */
function logged(coordinator: TestCoordinator, taskId: string, line: string): Promise<void> {
  return new Promise((resolve) => {
    const onLog = (id: string, l: string): void => {
      if (id === taskId && l === line) (coordinator.off('log', onLog), resolve());
    };
    coordinator.on('log', onLog);
  });
}

describe('dockyard worker: a real worker process behind a test coordinator', () => {
  let storeDir: string;
  let store: FsBlobStore;
  let coordinator: TestCoordinator;
  let worker: WorkerProcess;
  let cacheDir: string;
  let chain: LayerRecord[];
  let seed: Awaited<ReturnType<typeof seededStore>>;
  let registeredLine: Promise<string>;

  before(async () => {
    seed = await seededStore();
    ({ storeDir, store, chain } = seed);
    coordinator = new TestCoordinator(store, new Map([['tok', SECRET], ['other', 'not for this step']]), TOKEN);
    await coordinator.start();
    cacheDir = tempDir('worker-cache');
    const tokenFile = join(tempDir('token'), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    worker = startWorker(['--coordinator', coordinator.address, '--cache-dir', cacheDir, '--slots', '2', '--labels', 'zone=a,disk=ssd', '--token-file', tokenFile, '--id', 'worker-under-test']);
    registeredLine = firstLine(worker);
    await registeredLine;
    await coordinator.connected();
  });

  after(async () => {
    worker?.child.kill('SIGKILL');
    coordinator?.stop();
  });

  it('prints one "registered as" line once registered and connected, with its platforms, slots and labels', async () => {
    assert.equal(await registeredLine, 'registered as worker-under-test');
    const reg = coordinator.registrations[0]!;
    assert.equal(reg.workerId, 'worker-under-test');
    assert.deepEqual(reg.nativePlatforms, ['linux/amd64']);
    assert.equal(reg.slots, 2);
    assert.deepEqual(reg.labels, { zone: 'a', disk: 'ssd' });
  });

  it('runs a planned RUN with a context input and a secret mount; the new layer is in the coordinator store; the secret stays in the step', async () => {
    const { step, inputs } = await runStep(`sh -c 'cat /ctx/hello.txt > /out.txt; sha256sum /run/secrets/tok | cut -c1-64 > /secret.sum; echo line-from-step'`, seed);
    const task = coordinator.assign('task-1', step, inputs, '[test 1/1] RUN', { exported: true });
    const end = await task.end;
    assert.equal(end.event, 'result', JSON.stringify(end.failure));
    const result = decodeStepResult(end.result!);
    assert.equal(result.emptyLayer, false);
    assert.deepEqual(result.layers.slice(0, chain.length), chain);
    const made = result.layers.at(-1)!;
    assert.equal(await store.stat(made.digest), made.size);
    // A layer an image carries is gzipped by the worker.
    assert.equal(made.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.deepEqual([...readFileSync(join(storeDir, 'blobs', 'sha256', made.digest.slice(7))).subarray(0, 2)], [0x1f, 0x8b]);
    const files = extractLayer(storeDir, made.digest);
    assert.equal(readFileSync(join(files, 'out.txt'), 'utf8'), context['hello.txt']);
    assert.equal(readFileSync(join(files, 'secret.sum'), 'utf8').trim(), createHash('sha256').update(SECRET).digest('hex'));
    assert.ok(task.logs.includes('line-from-step'), `log lines: ${JSON.stringify(task.logs)}`);
    assert.deepEqual(task.secretRequests, ['tok']);
    // The first step on this worker fetched every input blob (busybox's layers and the context file) and sent its one new layer.
    assert.deepEqual(task.progress, [`downloaded ${chain.length + 1}/${chain.length + 1}`, `uploaded 1/${chain.length + 1}`]);
    // The secret is in no file of the worker's cache, not in the stored layer, not in the worker's output.
    assert.deepEqual(filesContaining(cacheDir, SECRET), []);
    assert.deepEqual(filesContaining(storeDir, SECRET), []);
    assert.ok(!worker.stderr.includes(SECRET) && !worker.stdout.includes(SECRET));
  });

  it('a secret mounted as an environment variable is on no disk of the worker while the step runs', async () => {
    const dir = makeDir(context);
    const p = await plan(`FROM busybox\nRUN --mount=type=secret,id=tok,env=TOK sh -c 'echo started; test "$TOK" && sleep 300'\n`, { contextDir: dir, secretIds: new Set(['tok']) });
    const step = p.steps.find((s) => s.kind === 'exec')!;
    const task = coordinator.assign('env-secret', step, [{ type: 'rootfs', layers: chain }], '[test 1/1] RUN');
    await logged(coordinator, 'env-secret', 'started');
    assert.deepEqual(filesContaining(cacheDir, SECRET), []);
    coordinator.cancel('env-secret', 'seen enough');
    assert.equal((await task.end).event, 'failure');
  });

  /** `COPY . /app/` on busybox, its context input replaced by a files tree of `entries`. */
  const copyOfTree = async (entries: TreeEntry[]): Promise<{ step: Step; inputs: RemoteStepInput[] }> => {
    const p = await plan('FROM busybox\nCOPY . /app/\n', { contextDir: makeDir(context) });
    const step = p.steps.find((s) => s.kind === 'file')!;
    const inputs = step.inputs.map((key): RemoteStepInput => {
      const src = p.steps.find((s) => s.key === key)!;
      if (src.kind === 'source' && src.source.type === 'context') return { type: 'files', origin: 'context', checksum: src.source.checksum, entries };
      return { type: 'rootfs', layers: chain };
    });
    return { step, inputs };
  };

  it('a COPY of a files tree gets its directories, modes and symlinks as the entries say, sharing content between entries', async () => {
    const size = context['hello.txt'].length;
    const { step, inputs } = await copyOfTree([
      { path: 'bin', type: 'dir', mode: 0o750, uid: 0, gid: 0, size: 0 },
      { path: 'bin/run.sh', type: 'file', mode: 0o755, uid: 0, gid: 0, size, digest: seed.contextDigest },
      { path: 'data.txt', type: 'file', mode: 0o600, uid: 0, gid: 0, size, digest: seed.contextDigest },
      { path: 'link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 10, linkTarget: 'bin/run.sh' },
    ]);
    const end = await coordinator.assign('copy-tree', step, inputs, '[test 2/2] COPY . /app/').end;
    assert.equal(end.event, 'result', JSON.stringify(end.failure));
    const made = decodeStepResult(end.result!).layers.at(-1)!;
    // A layer no image carries is stored as its uncompressed tar: the blob is the diffID's bytes.
    assert.equal(made.mediaType, 'application/vnd.oci.image.layer.v1.tar');
    assert.equal(made.digest, made.diffID);
    const listing = spawnSync('tar', ['-tvf', join(storeDir, 'blobs', 'sha256', made.digest.slice(7))], { encoding: 'utf8' }).stdout;
    const modes = new Map(listing.trim().split('\n').map((l) => [l.split(/\s+/).slice(5).join(' '), l.split(/\s+/)[0]!] as const));
    assert.equal(modes.get('app/bin/'), 'drwxr-x---');
    assert.equal(modes.get('app/bin/run.sh'), '-rwxr-xr-x');
    assert.equal(modes.get('app/data.txt'), '-rw-------');
    assert.equal(modes.get('app/link -> bin/run.sh'), 'lrwxrwxrwx');
  });

  it('refuses a files tree with an entry below one of its symlinks, and writes nothing where the symlink leads', async () => {
    const outside = tempDir('outside');
    const { step, inputs } = await copyOfTree([
      { path: 'esc', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: outside.length, linkTarget: outside },
      { path: 'esc/planted', type: 'file', mode: 0o644, uid: 0, gid: 0, size: context['hello.txt'].length, digest: seed.contextDigest },
    ]);
    const end = await coordinator.assign('escape-tree', step, inputs, '[test 2/2] COPY . /app/').end;
    assert.equal(end.event, 'failure');
    assert.match(end.failure!.message, /file entry "esc\/planted" lies below the symlink "esc"/);
    assert.deepEqual(readdirSync(outside), []);
  });

  it('reports a failing RUN as a Failure with the tail of its output', async () => {
    const { step, inputs } = await runStep(`sh -c 'echo about to fail; exit 3'`, seed);
    const end = await coordinator.assign('task-2', step, inputs, '[test 1/1] RUN').end;
    assert.equal(end.event, 'failure');
    assert.match(end.failure!.message, /exit code: 3/);
    assert.deepEqual(end.failure!.tail, ['about to fail']);
  });

  it('on SIGTERM during a step, heartbeats draining, delivers the result, then exits 0', async () => {
    const { step, inputs } = await runStep(`sh -c 'echo started; sleep 2; echo drained > /drained.txt'`, seed);
    const task = coordinator.assign('task-3', step, inputs, '[test 1/1] RUN');
    await logged(coordinator, 'task-3', 'started');
    const draining = new Promise<void>((resolve) => {
      const onBeat = (hb: { draining: boolean; running: string[] }): void => {
        if (hb.draining) (coordinator.off('heartbeat', onBeat), resolve());
      };
      coordinator.on('heartbeat', onBeat);
    });
    worker.child.kill('SIGTERM');
    await draining;
    const end = await task.end;
    assert.equal(end.event, 'result', JSON.stringify(end.failure));
    const made = decodeStepResult(end.result!).layers.at(-1)!;
    assert.equal(readFileSync(join(extractLayer(storeDir, made.digest), 'drained.txt'), 'utf8'), 'drained\n');
    assert.equal(await worker.exited, 0);
    assert.equal(worker.stdout.split('\n').filter((l) => l.startsWith('registered as')).length, 1);
  });
});

describe('dockyard worker: cancellation, reconnection, shared slots, a bounded cache, restarts', () => {
  let seed: Awaited<ReturnType<typeof seededStore>>;
  const started: { worker: WorkerProcess; coordinators: TestCoordinator[] }[] = [];

  /** Coordinators on the seeded store and a worker serving them all. */
  async function farm(n: number, args: string[], opts: { cacheDir?: string; env?: NodeJS.ProcessEnv; store?: BlobStore } = {}): Promise<{ worker: WorkerProcess; coordinators: TestCoordinator[]; cacheDir: string }> {
    const coordinators: TestCoordinator[] = [];
    for (let i = 0; i < n; i++) {
      const c = new TestCoordinator(opts.store ?? seed.store, new Map([['tok', SECRET]]), TOKEN);
      await c.start();
      coordinators.push(c);
    }
    const cacheDir = opts.cacheDir ?? tempDir('worker-cache');
    const worker = startWorker(['--coordinator', coordinators.map((c) => c.address).join(','), '--cache-dir', cacheDir, ...args], { DOCKYARD_TOKEN: TOKEN, ...opts.env });
    started.push({ worker, coordinators });
    assert.match(await firstLine(worker), /^registered as /);
    for (const c of coordinators) await c.connected();
    return { worker, coordinators, cacheDir };
  }

  before(async () => {
    seed = await seededStore();
  });

  after(() => {
    for (const f of started) {
      f.worker.child.kill('SIGKILL');
      for (const c of f.coordinators) c.stop();
    }
  });

  it('CancelStep stops the running step, which fails as cancelled; a dropped stream is re-registered and works again', async () => {
    const { worker, coordinators } = await farm(1, ['--slots', '1']);
    const c = coordinators[0]!;
    const long = await runStep(`sh -c 'echo started; sleep 300'`, seed);
    const task = c.assign('long', long.step, long.inputs, 'RUN long');
    await logged(c, 'long', 'started');
    c.cancel('long', 'the build was cancelled');
    const end = await task.end;
    assert.equal(end.event, 'failure');
    assert.match(end.failure!.message, /cancelled: the build was cancelled/);

    c.dropStream();
    await c.connected(2);
    assert.equal(c.registrations.length, 2);
    const quick = await runStep(`sh -c 'echo again > /again.txt'`, seed);
    assert.equal((await c.assign('after-reconnect', quick.step, quick.inputs, 'RUN quick').end).event, 'result');
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('started before its coordinator listens, it retries until it can register', async () => {
    const port = await freePort();
    const worker = startWorker(['--coordinator', `127.0.0.1:${port}`, '--cache-dir', tempDir('worker-cache')], { DOCKYARD_TOKEN: TOKEN });
    const c = new TestCoordinator(seed.store, new Map(), TOKEN);
    started.push({ worker, coordinators: [c] });
    await saidOnStderr(worker, `cannot reach 127.0.0.1:${port}`);
    await c.start(`127.0.0.1:${port}`);
    assert.match(await firstLine(worker), /^registered as /);
    await c.connected();
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('SIGTERM while it waits for its coordinator stops it cleanly', async () => {
    const port = await freePort();
    const worker = startWorker(['--coordinator', `127.0.0.1:${port}`, '--cache-dir', tempDir('worker-cache')], { DOCKYARD_TOKEN: TOKEN });
    started.push({ worker, coordinators: [] });
    await saidOnStderr(worker, `cannot reach 127.0.0.1:${port}`);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    assert.equal(worker.stdout, '');
  });

  it('connects to every --coordinator and shares its slots among them', async () => {
    const { worker, coordinators } = await farm(2, ['--slots', '1']);
    const [a, b] = coordinators as [TestCoordinator, TestCoordinator];
    assert.equal(a.registrations.length, 1);
    assert.equal(b.registrations.length, 1);
    const long = await runStep(`sh -c 'echo started; sleep 300'`, seed);
    const taskA = a.assign('on-a', long.step, long.inputs, 'RUN long');
    await logged(a, 'on-a', 'started');
    const quick = await runStep(`true`, seed);
    const endB = await b.assign('on-b', quick.step, quick.inputs, 'RUN quick').end;
    assert.equal(endB.event, 'failure');
    assert.match(endB.failure!.message, /has no free slot/);
    a.cancel('on-a', 'done');
    assert.equal((await taskA.end).event, 'failure');
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('keeps its local cache within --cache-max-size: least recently used layers and snapshots go after a step', async () => {
    const { worker, coordinators, cacheDir } = await farm(1, ['--cache-max-size', '1'], { env: { DOCKYARD_GC_GRACE: '0s' } });
    const c = coordinators[0]!;
    const step = await runStep(`sh -c 'echo bounded > /bounded.txt'`, seed);
    for (const id of ['first', 'second']) {
      const end = await c.assign(id, step.step, step.inputs, 'RUN bounded').end;
      assert.equal(end.event, 'result', JSON.stringify(end.failure));
    }
    // The bound is kept after a step's result is reported; draining waits for it.
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    assert.deepEqual(readdirSync(join(cacheDir, 'blobs', 'sha256')), []);
    assert.deepEqual(readdirSync(join(cacheDir, 'snapshots')).filter((n) => !n.startsWith('empty-')), []);
  });

  it('a download whose bytes do not match their digest leaves no snapshot, and fails the step with one line', async () => {
    // The last layer with its gzip header's timestamp changed: it still unpacks, but hashes to another digest.
    const bad = seed.chain.at(-1)!;
    const wrong = readFileSync(join(seed.storeDir, 'blobs', 'sha256', bad.digest.slice(7)));
    wrong.writeUInt32LE(wrong.readUInt32LE(4) + 1, 4);
    const lie = (d: Digest): Readable => (d === bad.digest ? Readable.from([wrong]) : seed.store.stream(d));
    const lieReader = async (d: Digest): Promise<BlobReader> =>
      d === bad.digest ? { read: async (into, position) => wrong.copy(into, 0, position, position + into.length), close: async () => undefined } : seed.store.openReader(d);
    const lying = Object.assign(Object.create(seed.store) as FsBlobStore, { stream: lie, unchecked: lie, openReader: lieReader });
    const { worker, coordinators, cacheDir } = await farm(1, [], { store: lying });
    const step = await runStep(`sh -c 'echo never > /never.txt'`, seed);
    const end = await coordinators[0]!.assign('corrupt', step.step, step.inputs, 'RUN corrupt').end;
    assert.equal(end.event, 'failure');
    assert.equal(end.failure!.message, `blob ${bad.digest} is corrupt (content hashes to sha256:${createHash('sha256').update(wrong).digest('hex')})`);
    const snapshots = readdirSync(join(cacheDir, 'snapshots'));
    // The layers that arrived whole are there, as snapshots only (the coordinator keeps their blobs;
    // the one blob is the context file's); of the corrupt one, nothing, not even a temporary file.
    for (const l of seed.chain.slice(0, -1)) assert.ok(snapshots.includes(l.diffID.slice(7, 31)));
    assert.deepEqual(readdirSync(join(cacheDir, 'blobs', 'sha256')), [seed.contextDigest.slice(7)]);
    assert.ok(!snapshots.includes(bad.diffID.slice(7, 31)), `snapshots: ${snapshots.join(' ')}`);
    assert.deepEqual(snapshots.filter((n) => n.startsWith('.')), []);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    // Temporary files go after the step's outcome is reported; draining waits for that.
    assert.deepEqual(readdirSync(join(cacheDir, 'tmp')), []);
  });

  it('after SIGKILL mid-step, the next start on the same cache directory removes the dead container, mounts and temporary files; a second worker on it is refused', async () => {
    const first = await farm(1, []);
    const c = first.coordinators[0]!;
    const long = await runStep(`sh -c 'echo started; sleep 300'`, seed);
    void c.assign('killed', long.step, long.inputs, 'RUN long').end;
    await logged(c, 'killed', 'started');
    const deadPid = first.worker.child.pid!;
    first.worker.child.kill('SIGKILL');
    await first.worker.exited;
    const runcRoot = join(first.cacheDir, 'runc');
    const containers = (): string => spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout.trim();
    const leftovers = (): string[] => [...readdirSync(join(first.cacheDir, 'mounts')), ...readdirSync(join(first.cacheDir, 'tmp'))].filter((n) => n.split('-').includes(String(deadPid)));
    assert.notEqual(containers(), '');
    assert.notDeepEqual(leftovers(), []);

    const second = await farm(1, [], { cacheDir: first.cacheDir });
    assert.equal(containers(), '');
    assert.deepEqual(leftovers(), []);
    const quick = await runStep(`sh -c 'echo fine > /fine.txt'`, seed);
    assert.equal((await second.coordinators[0]!.assign('after-restart', quick.step, quick.inputs, 'RUN quick').end).event, 'result');

    const third = startWorker(['--coordinator', second.coordinators[0]!.address, '--cache-dir', first.cacheDir], { DOCKYARD_TOKEN: TOKEN });
    assert.equal(await third.exited, 1);
    assert.equal(third.stderr, `error: another dockyard worker uses the cache directory ${first.cacheDir}\n`);
    second.worker.child.kill('SIGTERM');
    assert.equal(await second.worker.exited, 0);
  });
});

describe('dockyard worker refusals', () => {
  it('a worker without the right token is refused: one line, non-zero exit', async () => {
    const coordinator = new TestCoordinator(new FsBlobStore(tempDir('store')), new Map(), TOKEN);
    await coordinator.start();
    try {
      const w = startWorker(['--coordinator', coordinator.address, '--cache-dir', tempDir('cache')], { DOCKYARD_TOKEN: 'wrong' });
      const code = await w.exited;
      assert.equal(code, 1);
      assert.equal(w.stdout, '');
      assert.match(w.stderr, /^error: cannot register with the coordinator: .*token.*\n$/);
      assert.equal(coordinator.registrations.length, 0);
    } finally {
      coordinator.stop();
    }
  });

  it('over mTLS, a worker with a client certificate from the CA registers and runs a step; one without is refused', async () => {
    const dir = tempDir('tls');
    const tls = makeCertificates(dir);
    const openssl = (args: string[]): void => assert.equal(spawnSync('openssl', args, { cwd: dir }).status, 0);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=worker']);
    openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1']);
    const seed = await seededStore();
    const coordinator = new TestCoordinator(seed.store, new Map([['tok', SECRET]]), TOKEN, tls);
    await coordinator.start();
    try {
      const common = ['--coordinator', coordinator.address, '--tls-ca', tls.ca];
      const refused = startWorker([...common, '--cache-dir', tempDir('cache')], { DOCKYARD_TOKEN: TOKEN });
      assert.equal(await refused.exited, 1);
      // (node may warn first that TLS ignores an IP address as server name)
      assert.equal(refused.stderr.split('\n').at(-2), 'error: cannot register with the coordinator: TLS handshake failed: tlsv13 alert certificate required');
      assert.equal(coordinator.registrations.length, 0);

      const w = startWorker([...common, '--tls-cert', join(dir, 'client.crt'), '--tls-key', join(dir, 'client.key'), '--cache-dir', tempDir('cache')], { DOCKYARD_TOKEN: TOKEN });
      assert.match(await firstLine(w), /^registered as /);
      await coordinator.connected();
      const quick = await runStep(`sh -c 'cat /ctx/hello.txt > /tls.txt'`, seed);
      const end = await coordinator.assign('over-tls', quick.step, quick.inputs, 'RUN quick').end;
      assert.equal(end.event, 'result', JSON.stringify(end.failure));
      w.child.kill('SIGTERM');
      assert.equal(await w.exited, 0);
    } finally {
      coordinator.stop();
    }
  });

  it('bad flags name the flag', () => {
    const r = spawnSync(process.execPath, [cliPath, 'worker', '--coordinator', 'nohostport'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --coordinator: expected HOST:PORT/);
  });
});
