#!/usr/bin/env bash
# Installs npm dependencies (building better-sqlite3 from source when no prebuilt binary is reachable)
# and compiles the TypeScript into dist/. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.tix-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npx tsc -p tsconfig.json
