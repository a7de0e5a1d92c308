#!/usr/bin/env bash
# The peer tools the engine benchmark compares with, from Debian: BuildKit inside docker.io 20.10, and buildah.
set -euo pipefail
pkgs=()
for p in docker.io buildah; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || pkgs+=("$p"); done
if [ ${#pkgs[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
