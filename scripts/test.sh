#!/usr/bin/env bash
# The whole test suite: system packages (as root), npm dependencies, build, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/packages.sh
bash scripts/setup.sh
npx biome check src test bench scripts
node scripts/run-tests.mjs "$@"
