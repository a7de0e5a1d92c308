/**
 * Dispatch overhead of the farm per step: the coordinator's scheduler plus the gRPC round trip to a
 * worker and back, as a median. The coordinator side is the real one (WorkerRegistry, the Worker
 * service over loopback gRPC with a token, RemoteWorkers); the worker side is a minimal client that
 * answers each assignment at once, so that no step execution is counted. Run: `npm run bench:dispatch`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putBlob } from '../cache/blob-store.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { RemoteWorkers } from '../coordinator/farm/remote-workers.js';
import { WorkerRegistry } from '../coordinator/farm/worker-registry.js';
import { workerService } from '../coordinator/farm/worker-service.js';
import { sha256 } from '../oci/digest.js';
import type { CoordinatorMessage__Output } from '../proto/generated/dockyard/v1/CoordinatorMessage.js';
import { loadDockyardProto } from '../proto/load.js';
import { dialOptions, startGrpcServer } from '../proto/transport.js';
import { decodeStepInput, encodeStepResult } from '../worker/contract/io-codec.js';
import type { ExecutableStep } from '../worker/worker.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 500);
const TOKEN = 'bench-token';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** Registers, connects and answers every assignment with its rootfs input unchanged. */
async function instantWorker(address: string, id: string): Promise<() => void> {
  const proto = loadDockyardProto();
  const { credentials, options } = dialOptions({ token: TOKEN });
  const client = new proto.dockyard.v1.Worker(address, credentials, options);
  const reg = await new Promise<{ sessionId: string; heartbeatIntervalMs: number }>((resolve, reject) =>
    client.Register({ workerId: id, nativePlatforms: ['linux/amd64'], emulatedPlatforms: [], slots: 64, labels: {}, version: 'bench' }, (err, res) => (err ? reject(err) : resolve(res!))),
  );
  const call = client.Connect();
  call.on('data', (m: CoordinatorMessage__Output) => {
    if (m.message !== 'assign') return;
    const a = m.assign!;
    const layers = a.inputs.map(decodeStepInput).flatMap((i) => (i.type === 'rootfs' ? i.layers : []));
    call.write({ event: { taskId: a.taskId, result: encodeStepResult({ layers, emptyLayer: true }) } });
  });
  call.on('error', () => undefined);
  call.write({ hello: { workerId: id, sessionId: reg.sessionId } });
  const beat = (): void => void call.write({ heartbeat: { runningTasks: [], freeSlots: 64, draining: false } });
  beat();
  const timer = setInterval(beat, reg.heartbeatIntervalMs);
  await new Promise<void>((resolve) => call.once('data', () => resolve()));
  return () => {
    clearInterval(timer);
    call.end();
    client.close();
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-dispatch-'));
  const store = new FsBlobStore(dir);
  const base = await putBlob(store, 'base layer');
  const layer = { digest: base.digest, diffID: sha256('base tar'), size: base.size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  const registry = new WorkerRegistry();
  const server = await startGrpcServer({ listen: '127.0.0.1:0', tls: {}, token: TOKEN, services: [workerService(registry, {})] });
  const stops = await Promise.all([instantWorker(server.address, 'w1'), instantWorker(server.address, 'w2')]);
  const remote = new RemoteWorkers(registry, store);
  const times: number[] = [];
  for (let i = 0; i < STEPS + 20; i++) {
    const step: ExecutableStep = {
      key: sha256(`bench step ${i}`),
      platform: 'linux/amd64',
      inputs: [sha256('parent')],
      kind: 'exec',
      exec: { args: ['true'], env: [], cwd: '/', user: '', network: 'default', security: 'sandbox', rootfs: 0, mounts: [] },
    };
    const t0 = process.hrtime.bigint();
    await remote.execute(step, [{ type: 'rootfs', layers: [layer] }], { log: () => undefined, secrets: { get: async () => undefined } });
    // The first 20 warm up the connection and the JIT.
    if (i >= 20) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  remote.close();
  for (const stop of stops) stop();
  registry.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`dispatch overhead per step (scheduler + gRPC round trip, ${STEPS} steps, 2 workers): median ${median(times).toFixed(2)} ms, p90 ${percentile(times, 0.9).toFixed(2)} ms (target: median < 10 ms)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
