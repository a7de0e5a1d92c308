#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for Dockyard: installs the missing system packages with apt-get,
# checks Node.js, then installs the npm dependencies and compiles (npm ci runs `prepare`).
set -euo pipefail
cd "$(dirname "$0")/.."

# runc runs RUN steps; attr reads overlayfs' opaque-directory marks; docker-registry (with
# apache2-utils' htpasswd), redis-server, skopeo and umoci are the real peers the tests use;
# qemu-user-static runs foreign platforms; busybox-static makes small real base images offline;
# git clones ADD git sources; util-linux's flock holds cache-mount locks across processes; openssl
# checks signatures independently in the tests, and python3 gives them a pseudo-terminal (password prompts);
# iproute2's ip and tc put the farm benchmark's worker behind a rate-limited link.
PACKAGES=(runc docker-registry redis-server qemu-user-static busybox-static skopeo umoci attr apache2-utils git util-linux openssl python3 iproute2)

sudo=()
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo)
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run this script as root, or first: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Static busybox binaries per architecture, to build small base images offline (amd64 from the
# host package, arm64 downloaded as a foreign-architecture .deb and unpacked, not installed).
BUSYBOX_DIR=${DOCKYARD_BUSYBOX_DIR:-/var/lib/dockyard/busybox}
if [ ! -x "$BUSYBOX_DIR/arm64/busybox" ] || [ ! -x "$BUSYBOX_DIR/amd64/busybox" ]; then
  if [ "$(id -u)" != 0 ] && [ ${#sudo[@]} -eq 0 ] && ! sudo -n true 2>/dev/null; then
    echo "setup: run as root to prepare $BUSYBOX_DIR (busybox for amd64 and arm64)" >&2
    exit 1
  fi
  as_root=(); [ "$(id -u)" = 0 ] || as_root=(sudo)
  "${as_root[@]}" mkdir -p "$BUSYBOX_DIR/amd64" "$BUSYBOX_DIR/arm64"
  "${as_root[@]}" cp /bin/busybox "$BUSYBOX_DIR/amd64/busybox"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${as_root[@]}" dpkg --add-architecture arm64
    "${as_root[@]}" apt-get update -qq
  fi
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null)
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
  "${as_root[@]}" cp "$tmp/x/bin/busybox" "$BUSYBOX_DIR/arm64/busybox"
  rm -rf "$tmp"
fi

if ! command -v node >/dev/null; then
  echo "setup: Node.js 20 or newer is required (install the nodejs package or use your distribution's Node 20+)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required, found $(node --version)" >&2
  exit 1
fi

npm ci --no-audit --no-fund
