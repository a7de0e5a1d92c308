import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ExpectedError } from '../oci/expected-error.js';
import { tlsRoots } from '../oci/tls-roots.js';
import { tokenClientInterceptor, tokenServerInterceptor } from './auth.js';
import { protocolClientInterceptor, protocolServerInterceptor } from './protocol.js';

/** Bad TLS files, a bad listen address, a port that cannot be bound: one line naming the flag. */
export class TransportError extends ExpectedError {}

/**
 * PEM files, as `--tls-cert`, `--tls-key`, `--tls-ca` name them. On the coordinator: its certificate
 * and key (TLS), and with `ca` client certificates are required and checked against it (mTLS). On a
 * client or worker: `ca` checks the coordinator's certificate (the system's roots when absent), and
 * `cert` + `key` are the certificate it presents for mTLS.
 */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

/** How a client or worker reaches the coordinator. */
export interface DialOptions {
  token?: string;
  tls?: TlsFiles;
}

/** Messages carry at most a 1 MiB data chunk, but a step with a large context tree is one message. */
export const MAX_MESSAGE_BYTES = 64 << 20;

// Both ends ping an idle connection, so that a peer that vanished (a killed machine, a cut network)
// fails its calls within half a minute instead of hanging on TCP's timeouts.
const KEEPALIVE = { 'grpc.keepalive_time_ms': 20_000, 'grpc.keepalive_timeout_ms': 10_000 };

const MESSAGE_LIMITS = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES };

const FLAGS: Record<keyof TlsFiles, string> = { cert: '--tls-cert', key: '--tls-key', ca: '--tls-ca' };

function readPem(tls: TlsFiles, which: keyof TlsFiles): Buffer | null {
  const file = tls[which];
  if (file === undefined) return null;
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TransportError(`cannot read ${FLAGS[which]} ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`);
  }
}

function checkPair(tls: TlsFiles): void {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TransportError('--tls-cert and --tls-key go together: give both or neither');
}

/** The coordinator's credentials: insecure without files, TLS with cert + key, mTLS when ca is also given. */
export function serverCredentials(tls: TlsFiles): grpc.ServerCredentials {
  checkPair(tls);
  if (tls.cert === undefined) {
    if (tls.ca !== undefined) throw new TransportError('--tls-ca on the coordinator requires --tls-cert and --tls-key');
    return grpc.ServerCredentials.createInsecure();
  }
  const ca = readPem(tls, 'ca');
  const pair = { cert_chain: readPem(tls, 'cert')!, private_key: readPem(tls, 'key')! };
  try {
    return grpc.ServerCredentials.createSsl(ca, [pair], ca !== null);
  } catch (err) {
    throw new TransportError(`invalid TLS files (${[tls.cert, tls.key, tls.ca].filter(Boolean).join(', ')}): ${(err as Error).message}`);
  }
}

/** A client's or worker's credentials: insecure without files, else TLS (with a client certificate when cert + key are given). */
export function channelCredentials(tls: TlsFiles): grpc.ChannelCredentials {
  checkPair(tls);
  if (tls.cert === undefined && tls.ca === undefined) return grpc.credentials.createInsecure();
  try {
    const roots = tlsRoots();
    return grpc.credentials.createSsl(readPem(tls, 'ca') ?? (roots ? Buffer.from(roots.join('\n')) : null), readPem(tls, 'key'), readPem(tls, 'cert'));
  } catch (err) {
    if (err instanceof TransportError) throw err;
    throw new TransportError(`invalid TLS files (${[tls.cert, tls.key, tls.ca].filter(Boolean).join(', ')}): ${(err as Error).message}`);
  }
}

/**
 * What a client passes to a service constructor (`new Service(address, credentials, options)`): the
 * protocol version and the token on every call, keepalive, quick reconnection after a broken
 * connection, and message limits that match the server's.
 */
export function dialOptions(opts: DialOptions): { credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  const interceptors = [protocolClientInterceptor()];
  if (opts.token !== undefined) interceptors.push(tokenClientInterceptor(opts.token));
  return {
    credentials: channelCredentials(opts.tls ?? {}),
    options: {
      interceptors,
      ...KEEPALIVE,
      ...MESSAGE_LIMITS,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5_000,
      // A larger receive window than HTTP/2's 64 KiB, so that a download is not bounded by round trips.
      'grpc-node.flow_control_window': 4 << 20,
    },
  };
}

/** `HOST:PORT` (`[v6]:PORT` for IPv6) split, or a one-line error naming the flag. */
export function parseListen(listen: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new TransportError(`invalid ${flag} ${JSON.stringify(listen)}: use HOST:PORT (port 0 picks a free one)`);
  return { host: m[1] ?? m[2]!, port };
}

export interface GrpcService {
  definition: grpc.ServiceDefinition;
  handlers: grpc.UntypedServiceImplementation;
}

export interface StartedServer {
  /** HOST:PORT with the port actually bound. */
  address: string;
  server: grpc.Server;
  /** Stops accepting calls, lets running ones end, and cancels those still running after a short grace. */
  close(): Promise<void>;
}

/**
 * Serves `services` on `listen` (HOST:PORT; port 0 picks a free one). Every call passes the token
 * check and then the protocol check before any handler runs.
 */
export async function startGrpcServer(opts: {
  listen: string;
  tls: TlsFiles;
  token?: string;
  services: GrpcService[];
  /** The server's role in protocol-mismatch messages (default `coordinator`). */
  role?: string;
  /** How long `close()` waits for running calls (default 5 s). */
  graceMs?: number;
}): Promise<StartedServer> {
  const { host, port } = parseListen(opts.listen);
  const credentials = serverCredentials(opts.tls);
  const server = new grpc.Server({
    interceptors: [tokenServerInterceptor(opts.token), protocolServerInterceptor(opts.role ?? 'coordinator')],
    ...KEEPALIVE,
    ...MESSAGE_LIMITS,
  });
  for (const s of opts.services) server.addService(s.definition, s.handlers);
  const shown = host.includes(':') ? `[${host}]` : host;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${shown}:${port}`, credentials, (err, p) => (err ? reject(new TransportError(`cannot listen on ${opts.listen}: ${err.message.split('\n')[0]}`)) : resolve(p))),
  );
  const graceMs = opts.graceMs ?? 5_000;
  return {
    address: `${shown}:${bound}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
