#!/usr/bin/env bash
# Generates the TypeScript types of proto/dockyard/v1 into DIR (default proto/generated), replacing it.
# The flags must match LOADER_OPTIONS in proto/load.ts: both describe the same JavaScript shapes.
# test/proto-generated.test.ts fails when the checked-in files differ from what this writes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$root/proto/generated}")"
rm -rf "$out"
# Relative paths from the root: the generated files name their .proto, and must not name this checkout.
cd "$root"
node_modules/.bin/proto-loader-gen-types \
  --longs=Number --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js \
  -I proto -O "$out" \
  dockyard/v1/worker.proto dockyard/v1/content.proto dockyard/v1/build.proto >/dev/null
