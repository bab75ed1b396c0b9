#!/usr/bin/env bash
# The whole test suite: system packages (as root), npm dependencies, build, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nix-bin bubblewrap busybox-static openssh-server openssh-client zstd xz-utils bzip2 lz4 lzip curl git mercurial openssl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: not root; tests needing ${missing[*]} will skip"
  fi
fi

bash scripts/setup.sh
npx biome check src test bench scripts
node scripts/run-tests.mjs "$@"
