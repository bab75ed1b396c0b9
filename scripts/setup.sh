#!/usr/bin/env bash
# Installs npm dependencies (building better-sqlite3 and fs-ext from source when no prebuilt binary
# is reachable), builds the small native addons (SO_PEERCRED for the daemon, CPUID for the x86-64
# levels in extra-platforms) and compiles the
# TypeScript into dist/ (tests, bench) and bundles the executables into dist/bin/ (bin/* run
# that one file, compiled from a V8 code cache that the first runs write beside it, instead of
# ~150 modules: see scripts/bundle.mjs). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.tix-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
stale=
for a in peercred cpuid; do
  if [ ! -f "native/build/Release/$a.node" ] || [ "native/$a.c" -nt "native/build/Release/$a.node" ] || [ native/binding.gyp -nt "native/build/Release/$a.node" ]; then stale=1; fi
done
if [ -n "$stale" ]; then
  nodedir=()
  [ -f /usr/include/node/node_api.h ] && nodedir=(--nodedir=/usr)
  (cd native && ../node_modules/.bin/node-gyp rebuild "${nodedir[@]}" --loglevel=error >/dev/null)
fi
npx tsc -p tsconfig.json
node scripts/bundle.mjs
