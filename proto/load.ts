import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as BuildProto } from './generated/build.js';
import type { ProtoGrpcType as ContentProto } from './generated/content.js';
import type { ProtoGrpcType as WorkerProto } from './generated/worker.js';

/** The `.proto` sources, beside the compiled module (dist/proto) in the package: `<root>/proto`. */
export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');

/** The files that define the services; they import the rest. */
export const SERVICE_FILES = ['dockyard/v1/worker.proto', 'dockyard/v1/content.proto', 'dockyard/v1/build.proto'];

/**
 * How messages look in JavaScript: camelCase fields, 64-bit integers as numbers (sizes and times stay
 * below 2^53), enums as their names, defaults filled in, and each oneof's chosen field named by a
 * virtual field. Must match the flags of scripts/gen-proto.sh, which generates proto/generated.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

/** Every service and message of `dockyard.v1`, typed by the generated declarations. */
export type DockyardProto = WorkerProto & ContentProto & BuildProto;

/** The protocol's messages by name (no enums, no services). */
export type DockyardV1 = DockyardProto['dockyard']['v1'];

/** Loads the `.proto` files: service constructors for clients and definitions for servers. */
export function loadDockyardProto(): DockyardProto {
  const definition = protoLoader.loadSync(SERVICE_FILES, LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition) as unknown as DockyardProto;
}
