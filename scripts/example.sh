#!/usr/bin/env bash
# The main job: build a small busybox base image from Debian's busybox-static (there is nothing to
# pull offline), build the bundled example on it, check it with umoci and run it with runc.
# Needs root, like every real build: it mounts overlays and runs containers.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/dockyard-example.XXXXXX)
busybox_dir=${DOCKYARD_BUSYBOX_DIR:-/var/lib/dockyard/busybox}

npx dockyard build --build-context busybox-bin="$busybox_dir" -t busybox:latest \
  -o type=oci,dest="$work/busybox",tar=false examples/busybox
npx dockyard build --build-context busybox=oci-layout://"$work/busybox" -t hello:latest \
  -o type=oci,dest="$work/hello.tar" examples/hello

mkdir "$work/hello"
tar -xf "$work/hello.tar" -C "$work/hello"
umoci unpack --image "$work/hello:latest" "$work/bundle" >/dev/null
# umoci writes a spec for an interactive terminal; run without one.
node -e 'const f=process.argv[1],fs=require("fs"),c=JSON.parse(fs.readFileSync(f));c.process.terminal=false;fs.writeFileSync(f,JSON.stringify(c))' "$work/bundle/config.json"
runc run --bundle "$work/bundle" "dockyard-example-$$"
echo "image: $work/hello.tar"
