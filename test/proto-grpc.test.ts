import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { sha256 } from '../oci/digest.js';
import type { CoordinatorMessage__Output } from '../proto/generated/dockyard/v1/CoordinatorMessage.js';
import type { WorkerClient, WorkerHandlers } from '../proto/generated/dockyard/v1/Worker.js';
import type { WorkerMessage__Output } from '../proto/generated/dockyard/v1/WorkerMessage.js';
import { loadDockyardProto } from '../proto/load.js';
import { checkPeerProtocol, ProtocolMismatchError, protocolClientInterceptor, protocolMetadata, protocolServerInterceptor, PROTOCOL_VERSION } from '../proto/protocol.js';
import { ExpectedError } from '../oci/expected-error.js';
import { decodeStepInput, decodeStepResult, encodeStepInput, encodeStepResult } from '../worker/contract/io-codec.js';
import { decodeStep, encodeStep } from '../worker/contract/step-codec.js';
import type { RemoteStepInput, SettledStepOutput } from '../worker/contract/step-io.js';
import type { Step } from '../worker/step.js';
import { makeDir, plan } from './helpers.js';

const proto = loadDockyardProto();
const layer = { digest: sha256('blob'), diffID: sha256('tar'), size: 42, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };

/** What the test coordinator saw of one step's session. */
interface Session {
  logs: string[];
  result?: SettledStepOutput;
}

/**
 * A coordinator with just enough of the Worker service: it assigns `step` to any worker that says
 * hello, answers secret requests only for ids the step mounts, and keeps what comes back.
 */
function coordinator(step: Step, inputs: RemoteStepInput[], secrets: Map<string, string>, sessions: Session[]): WorkerHandlers {
  const mounted = new Set(step.kind === 'exec' ? step.exec.mounts.flatMap((m) => (m.type === 'secret' ? [m.id] : [])) : []);
  return {
    Register: (call, callback) => callback(null, { workerId: call.request.workerId, sessionId: `session-${call.request.workerId}`, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 5000 }),
    Connect: (call) => {
      const session: Session = { logs: [] };
      sessions.push(session);
      call.on('data', (msg: WorkerMessage__Output) => {
        if (msg.message === 'hello') {
          call.write({ assign: { taskId: 'task-1', step: encodeStep(step), inputs: inputs.map(encodeStepInput), epoch: 0, name: '[test 1/1] RUN' } });
          return;
        }
        const ev = msg.event;
        if (!ev) return;
        if (ev.event === 'log') session.logs.push(ev.log!.line);
        if (ev.event === 'secretRequest') {
          const { requestId, secretId } = ev.secretRequest!;
          const value = mounted.has(secretId) ? secrets.get(secretId) : undefined;
          call.write({ secret: { taskId: ev.taskId, requestId, found: value !== undefined, value: Buffer.from(value ?? '') } });
        }
        if (ev.event === 'result') {
          session.result = decodeStepResult(ev.result!);
          call.end();
        }
      });
    },
  };
}

/** Opens a Worker client speaking protocol `version` (none at all when null). */
function client(address: string, version: number | null): WorkerClient {
  return new proto.dockyard.v1.Worker(address, grpc.credentials.createInsecure(), version === null ? {} : { interceptors: [protocolClientInterceptor(version)] });
}

/** The error a call ends with, or undefined when it ends well. */
function connectError(c: WorkerClient): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    const call = c.Connect();
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('end', () => resolve(undefined));
    call.write({ hello: { workerId: 'w', sessionId: 's' } });
  });
}

describe('the Worker service over gRPC on loopback', () => {
  let server: grpc.Server;
  let address: string;
  let step: Step;
  const sessions: Session[] = [];
  const inputs: RemoteStepInput[] = [
    { type: 'rootfs', layers: [layer] },
    { type: 'files', origin: 'context', checksum: sha256('sel'), entries: [{ path: 'a.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, digest: sha256('a') }] },
  ];

  before(async () => {
    const p = await plan('FROM alpine\nCOPY a.txt /\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n', { secretIds: new Set(['tok', 'other']), contextDir: makeDir({ 'a.txt': 'a' }) });
    step = p.steps.find((s) => s.kind === 'exec')!;
    server = new grpc.Server({ interceptors: [protocolServerInterceptor('coordinator')] });
    server.addService(proto.dockyard.v1.Worker.service, coordinator(step, inputs, new Map([['tok', 's3cret'], ['other', 'not yours']]), sessions));
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  it('registers a worker, assigns it a step with its inputs, serves the secret it mounts only, and gets logs and the result back', async () => {
    const c = client(address, PROTOCOL_VERSION);
    const registered = await new Promise<{ sessionId: string }>((resolve, reject) =>
      c.Register({ workerId: 'w1', nativePlatforms: ['linux/amd64'], emulatedPlatforms: ['linux/arm64'], slots: 2, labels: { zone: 'a' }, version: '0.1.0' }, (err, res) => (err ? reject(err) : resolve(res!))),
    );
    assert.equal(registered.sessionId, 'session-w1');

    const call = c.Connect();
    const serverMetadata = new Promise<grpc.Metadata>((resolve) => call.on('metadata', resolve));
    const received: { step?: Step; inputs?: RemoteStepInput[]; secrets: Map<string, string | undefined> } = { secrets: new Map() };
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    const asked = new Map<string, string>();
    call.on('data', (msg: CoordinatorMessage__Output) => {
      if (msg.message === 'assign') {
        const a = msg.assign!;
        received.step = decodeStep(a.step!);
        received.inputs = a.inputs.map(decodeStepInput);
        // As a worker would: ask for what the step mounts, and for one it does not.
        for (const id of ['tok', 'other']) {
          asked.set(`r-${id}`, id);
          call.write({ event: { taskId: a.taskId, secretRequest: { requestId: `r-${id}`, secretId: id } } });
        }
      }
      if (msg.message === 'secret') {
        const s = msg.secret!;
        received.secrets.set(asked.get(s.requestId)!, s.found ? s.value.toString() : undefined);
        if (received.secrets.size === 2) {
          call.write({ event: { taskId: s.taskId, log: { line: 'hello from the worker' } } });
          call.write({ event: { taskId: s.taskId, result: encodeStepResult({ layers: [layer, { ...layer, digest: sha256('blob2'), diffID: sha256('tar2') }], emptyLayer: false }) } });
          call.end();
        }
      }
    });
    call.write({ hello: { workerId: 'w1', sessionId: registered.sessionId } });
    await ended;
    c.close();

    // The coordinator announces its version: a client checks it the same way.
    checkPeerProtocol(await serverMetadata, { local: 'worker', peer: 'coordinator' });
    assert.deepStrictEqual(received.step, step);
    assert.deepStrictEqual(received.inputs, inputs);
    assert.deepEqual([...received.secrets], [['tok', 's3cret'], ['other', undefined]]);
    const session = sessions.at(-1)!;
    assert.deepEqual(session.logs, ['hello from the worker']);
    assert.deepStrictEqual(session.result, { layers: [layer, { ...layer, digest: sha256('blob2'), diffID: sha256('tar2') }], emptyLayer: false });
  });

  it('refuses a worker of another protocol version with one line naming both versions', async () => {
    const c = client(address, PROTOCOL_VERSION + 1);
    const err = await connectError(c);
    c.close();
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(err?.details, `incompatible worker: it speaks Dockyard protocol ${PROTOCOL_VERSION + 1}, this coordinator speaks Dockyard protocol ${PROTOCOL_VERSION} (dockyard.v1); run the same Dockyard release on both`);
  });

  it('refuses a peer that sends no protocol version, on unary calls too', async () => {
    const c = client(address, null);
    const err = await new Promise<grpc.ServiceError | null>((resolve) => c.Register({ workerId: 'w2' }, (e) => resolve(e)));
    c.close();
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(err?.details, `incompatible worker: it sent no Dockyard protocol version (dockyard-protocol metadata), this coordinator speaks Dockyard protocol ${PROTOCOL_VERSION} (dockyard.v1)`);
  });

  it('lets a client refuse a coordinator of another version with a one-line user error', () => {
    assert.throws(
      () => checkPeerProtocol(protocolMetadata(PROTOCOL_VERSION + 1), { local: 'client', peer: 'coordinator' }),
      (e: unknown) =>
        e instanceof ProtocolMismatchError &&
        e instanceof ExpectedError &&
        e.message === `incompatible coordinator: it speaks Dockyard protocol ${PROTOCOL_VERSION + 1}, this client speaks Dockyard protocol ${PROTOCOL_VERSION} (dockyard.v1); run the same Dockyard release on both`,
    );
  });
});
