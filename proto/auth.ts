import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ExpectedError } from '../oci/expected-error.js';

/**
 * The farm's shared token: every client, worker and coordinator of one farm holds the same secret,
 * sent as `authorization: Bearer <token>` on every call. It authenticates peers, it does not hide
 * traffic: give the coordinator certificates (proto/transport.ts) so that it travels under TLS.
 */
export const AUTHORIZATION_KEY = 'authorization';
export const TOKEN_ENV = 'DOCKYARD_TOKEN';

/** A token that cannot be read or cannot be sent: one line naming where it came from. */
export class TokenError extends ExpectedError {}

/** A client interceptor that puts the token into every call's metadata. */
export function tokenClientInterceptor(token: string): grpc.Interceptor {
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(AUTHORIZATION_KEY, value);
        next(metadata, listener);
      },
    });
}

/** Equal strings, in a time that does not depend on where they differ or on their lengths. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Why a call's metadata does not authenticate it against `token`, or undefined when it does. */
export function tokenRefusal(metadata: grpc.Metadata, token: string): string | undefined {
  const sent = metadata.get(AUTHORIZATION_KEY)[0];
  if (sent === undefined || sent === '') return `unauthenticated: this coordinator requires the farm's token (set ${TOKEN_ENV} or --token-file)`;
  const m = /^Bearer (.*)$/.exec(String(sent));
  if (!m || !sameSecret(m[1]!, token)) return `unauthenticated: the token does not match this coordinator's (check ${TOKEN_ENV} or --token-file)`;
  return undefined;
}

/**
 * A server interceptor that ends every call without the right token with UNAUTHENTICATED and a
 * one-line reason, before any handler runs. Without a token (undefined) every peer is accepted: a
 * farm on a trusted network, or one process's own loopback server.
 */
export function tokenServerInterceptor(token: string | undefined): grpc.ServerInterceptor {
  return (_method, call) => {
    if (token === undefined) return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const reason = tokenRefusal(metadata, token);
        if (reason === undefined) next(metadata);
        else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: reason });
      })
      .build();
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}

/** A token must travel as an HTTP/2 header value: printable ASCII, no surrounding whitespace. */
function checkToken(token: string, source: string): string {
  if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(token)) throw new TokenError(`${source} holds characters a token cannot have (use printable ASCII)`);
  return token;
}

/**
 * The farm's token: the content of `tokenFile` (`--token-file`, trailing newline ignored) when given,
 * else `DOCKYARD_TOKEN`, else undefined (no authentication).
 */
export function readToken(opts: { tokenFile?: string; env?: NodeJS.ProcessEnv } = {}): string | undefined {
  if (opts.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.tokenFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TokenError(`cannot read --token-file ${opts.tokenFile}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`);
    }
    const token = text.trim();
    if (token === '') throw new TokenError(`--token-file ${opts.tokenFile} is empty`);
    return checkToken(token, `--token-file ${opts.tokenFile}`);
  }
  const value = (opts.env ?? process.env)[TOKEN_ENV]?.trim();
  return value ? checkToken(value, TOKEN_ENV) : undefined;
}
