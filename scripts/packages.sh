#!/usr/bin/env bash
# The Debian packages the tests and benchmarks use (Nix 2.8 to compare with, the sandbox, the
# multi-host harness's sshd, compression tools, fetchers). Installs the missing ones with apt when
# run as root; otherwise says which are missing (the tests needing them skip).
set -euo pipefail

packages=(nix-bin bubblewrap busybox-static openssh-server openssh-client zstd xz-utils bzip2 lz4 lzip curl git mercurial openssl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "packages.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "packages.sh: not root; what needs ${missing[*]} will skip or fail"
  fi
fi
