#!/usr/bin/env bash
# Runs every benchmark once, one after another (they compete for the same 2 cores otherwise), and
# prints their result lines. Installs the packages the tests use (as root: Nix 2.8, busybox-static,
# sshd…) and builds the checkout first. The remote and daemon benchmarks need root with sshd and
# unshare (the multi-host harness). Usage: bash bench/run-all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/packages.sh && bash scripts/setup.sh >/dev/null || exit 1
for b in nar-dump local-100 eval remote-100 remote-256m remote-100-ssh-ng daemon-qpi cache-serve cache-copy import-256m; do
  if [ -f "dist/bench/$b.js" ]; then
    echo "== $b ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
    node "dist/bench/$b.js" 2>&1 | grep -v '^npm warn' | tail -8
  fi
done
