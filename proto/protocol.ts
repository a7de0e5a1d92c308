import * as grpc from '@grpc/grpc-js';
import { ExpectedError } from '../oci/expected-error.js';

/**
 * The farm's wire protocol. The package name (`dockyard.v1`) changes with a breaking change to the
 * messages; PROTOCOL_VERSION changes with any change a peer must know about (a new required field, a
 * new meaning), and peers of different versions refuse each other. Every call carries it in metadata.
 */
export const PROTOCOL_PACKAGE = 'dockyard.v1';
export const PROTOCOL_VERSION = 4;
export const PROTOCOL_METADATA_KEY = 'dockyard-protocol';

/** A peer speaks another protocol version (or none): one line naming both. */
export class ProtocolMismatchError extends ExpectedError {}

/** Who is at each end of a call, for messages: `worker`, `client`, `coordinator`. */
export interface ProtocolRoles {
  local: string;
  peer: string;
}

/**
 * Why a peer that sent `peerVersion` cannot talk to us, or undefined when it can. One line naming
 * both versions, so an operator knows which side to upgrade.
 */
export function protocolMismatch(peerVersion: string | undefined, roles: ProtocolRoles, localVersion: number = PROTOCOL_VERSION): string | undefined {
  if (peerVersion === String(localVersion)) return undefined;
  const ours = `this ${roles.local} speaks Dockyard protocol ${localVersion} (${PROTOCOL_PACKAGE})`;
  if (peerVersion === undefined || peerVersion === '') return `incompatible ${roles.peer}: it sent no Dockyard protocol version (${PROTOCOL_METADATA_KEY} metadata), ${ours}`;
  return `incompatible ${roles.peer}: it speaks Dockyard protocol ${peerVersion}, ${ours}; run the same Dockyard release on both`;
}

/** The protocol version a call's (or a response's) metadata carries. */
export function peerProtocol(metadata: grpc.Metadata): string | undefined {
  const v = metadata.get(PROTOCOL_METADATA_KEY)[0];
  return v === undefined ? undefined : String(v);
}

/**
 * Throws a ProtocolMismatchError (one line, printed as is by the CLI) when the metadata of a call or
 * of a response comes from a peer of another protocol version: what a client checks on the
 * coordinator's response headers, and a server on a call it handles without the interceptor.
 */
export function checkPeerProtocol(metadata: grpc.Metadata, roles: ProtocolRoles, localVersion: number = PROTOCOL_VERSION): void {
  const reason = protocolMismatch(peerProtocol(metadata), roles, localVersion);
  if (reason !== undefined) throw new ProtocolMismatchError(reason);
}

/** Metadata announcing our protocol version, to pass to a call (or to merge into other metadata). */
export function protocolMetadata(version: number = PROTOCOL_VERSION, into: grpc.Metadata = new grpc.Metadata()): grpc.Metadata {
  into.set(PROTOCOL_METADATA_KEY, String(version));
  return into;
}

/** The peer's role as a coordinator sees it, from the service called. */
function callerRole(path: string): string {
  if (path.startsWith(`/${PROTOCOL_PACKAGE}.Worker/`)) return 'worker';
  if (path.startsWith(`/${PROTOCOL_PACKAGE}.Build/`)) return 'client';
  return 'peer';
}

/**
 * A server interceptor that ends every call from a peer of another protocol version with
 * FAILED_PRECONDITION and the one-line reason, before any handler runs, and announces our version
 * in the response metadata.
 */
export function protocolServerInterceptor(local = 'coordinator', version: number = PROTOCOL_VERSION): grpc.ServerInterceptor {
  return (method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const reason = protocolMismatch(peerProtocol(metadata), { local, peer: callerRole(method.path) }, version);
        if (reason === undefined) next(metadata);
        else call.sendStatus({ code: grpc.status.FAILED_PRECONDITION, details: reason, metadata: protocolMetadata(version) });
      })
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMetadata((metadata, next) => next(protocolMetadata(version, metadata)))
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}

/** A client interceptor that puts our protocol version into every call's metadata. */
export function protocolClientInterceptor(version: number = PROTOCOL_VERSION): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => next(protocolMetadata(version, metadata), listener),
    });
}
