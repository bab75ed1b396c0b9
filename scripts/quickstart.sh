#!/usr/bin/env bash
# Installs what tix needs (Debian packages when run as root, npm dependencies, the compiled
# TypeScript), then builds examples/hello.nix on the default store and prints its output path.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for p in bubblewrap busybox-static; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "quickstart: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
bash scripts/setup.sh
bin/tix build --no-out-link examples/hello.nix
