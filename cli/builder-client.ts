import * as grpc from '@grpc/grpc-js';
import { ExpectedError } from '../oci/expected-error.js';
import { readToken } from '../proto/auth.js';
import { checkPeerProtocol } from '../proto/protocol.js';
import { loadDockyardProto } from '../proto/load.js';
import type { BuildClient } from '../proto/generated/dockyard/v1/Build.js';
import { dialOptions, type DialOptions, type TlsFiles } from '../proto/transport.js';

/** The farm's coordinator could not be reached or refused us: one line naming it. */
export class BuilderError extends ExpectedError {}

/** How long a client waits for the coordinator to answer before it says it cannot reach it. */
const CONNECT_DEADLINE_MS = 10_000;

export interface BuilderConnection {
  address: string;
  dial: DialOptions;
  client: BuildClient;
}

/** A gRPC failure as one line naming the builder: unreachable, refused (token), or what it said. */
export function builderError(address: string, err: unknown): BuilderError {
  const e = err as Partial<grpc.ServiceError>;
  const details = (e.details || e.message || String(err)).split('\n')[0];
  if (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.PERMISSION_DENIED) return new BuilderError(`builder ${address} refused us: ${details}`);
  if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) return new BuilderError(`cannot reach builder ${address}: ${details}`);
  if (e.code === grpc.status.NOT_FOUND || e.code === grpc.status.INVALID_ARGUMENT || e.code === grpc.status.FAILED_PRECONDITION) return new BuilderError(details);
  return new BuilderError(`builder ${address}: ${details}`);
}

/**
 * Connects to the first reachable of `addresses` (comma-separated coordinators of one farm), starting
 * after `after` when given, with the token (`--token-file` or DOCKYARD_TOKEN) and TLS files; fails with
 * one line naming the last it tried.
 */
export async function connectBuilder(addresses: string, opts: { tokenFile?: string; tls: TlsFiles; env?: NodeJS.ProcessEnv; after?: string }): Promise<BuilderConnection> {
  const list = addresses.split(',');
  const start = opts.after === undefined ? 0 : list.indexOf(opts.after) + 1;
  const order = [...list.slice(start), ...list.slice(0, start)];
  let last: unknown;
  for (const address of order) {
    try {
      return await connectOne(address, opts);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

async function connectOne(address: string, opts: { tokenFile?: string; tls: TlsFiles; env?: NodeJS.ProcessEnv }): Promise<BuilderConnection> {
  const token = readToken({ ...(opts.tokenFile !== undefined ? { tokenFile: opts.tokenFile } : {}), env: opts.env ?? process.env });
  const dial: DialOptions = { ...(token !== undefined ? { token } : {}), tls: opts.tls };
  const { credentials, options } = dialOptions(dial);
  const Build = loadDockyardProto().dockyard.v1.Build;
  const client = new Build(address, credentials, options) as unknown as BuildClient;
  await new Promise<void>((resolve, reject) => {
    const channel = client.getChannel();
    const deadline = Date.now() + CONNECT_DEADLINE_MS;
    const fail = (why: string): void => {
      client.close();
      reject(new BuilderError(`cannot reach builder ${address}: ${why}`));
    };
    // Ready, or a first failed attempt (nothing listens there, a TLS mismatch): no waiting out the deadline.
    const watch = (state: grpc.connectivityState): void => {
      if (state === grpc.connectivityState.READY) return resolve();
      if (state === grpc.connectivityState.TRANSIENT_FAILURE) return fail('the connection failed (is a coordinator listening there?)');
      if (state === grpc.connectivityState.SHUTDOWN) return fail('the channel closed');
      channel.watchConnectivityState(state, deadline, (err) => (err ? fail(`no answer within ${CONNECT_DEADLINE_MS / 1000}s`) : watch(channel.getConnectivityState(true))));
    };
    watch(channel.getConnectivityState(true));
  });
  return { address, dial, client };
}

/** A unary call of the Build service as a promise, its failure as one line naming the builder. */
export function call<Req, Res>(b: BuilderConnection, method: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall, req: Req): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const c = method.call(b.client, req, (err, res) => (err ? reject(builderError(b.address, err)) : resolve(res!)));
    c.on('metadata', (md: grpc.Metadata) => {
      try {
        checkPeerProtocol(md, { local: 'client', peer: 'coordinator' });
      } catch (err) {
        reject(err);
      }
    });
  });
}
