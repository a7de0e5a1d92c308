#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for Dockyard: installs the missing system packages with apt-get,
# checks Node.js, then installs the npm dependencies and compiles (npm ci runs `prepare`).
set -euo pipefail
cd "$(dirname "$0")/.."

# runc runs RUN steps; docker-registry, redis-server, skopeo and umoci are the real peers the tests
# use; qemu-user-static runs foreign platforms; busybox-static makes small real base images offline.
PACKAGES=(runc docker-registry redis-server qemu-user-static busybox-static skopeo umoci)

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
