import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { protocolClientInterceptor } from '../../proto/protocol.js';

/**
 * How the worker dials a coordinator: TLS when a CA or client certificate is given (mTLS with both),
 * the shared token as `authorization: Bearer`, the protocol version on every call.
 * Stands in for proto/transport.ts's `dialOptions` (branch transport-content) until that lands.
 */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

export interface DialOptions {
  token?: string;
  tls?: TlsFiles;
}

export interface Dial {
  credentials: grpc.ChannelCredentials;
  options: grpc.ClientOptions;
}

function tokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

export function dialOptions(opts: DialOptions): Dial {
  const tls = opts.tls ?? {};
  const read = (f: string | undefined): Buffer | undefined => (f === undefined ? undefined : readFileSync(f));
  const useTls = tls.ca !== undefined || tls.cert !== undefined;
  const credentials = useTls ? grpc.credentials.createSsl(read(tls.ca) ?? null, read(tls.key) ?? null, read(tls.cert) ?? null) : grpc.credentials.createInsecure();
  const interceptors = [protocolClientInterceptor(), ...(opts.token !== undefined ? [tokenInterceptor(opts.token)] : [])];
  return {
    credentials,
    options: { interceptors, 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 },
  };
}
