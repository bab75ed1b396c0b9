#!/usr/bin/env bash
# Runs nixpkgs lib's own tests with tix in place of nix-instantiate: lib/tests/misc.nix and
# lib/tests/systems.nix (each must evaluate to []) and lib/tests/modules.sh (the module system's
# checks; its pass and fail counts). DIR is a checkout of nixpkgs or of nix-community/nixpkgs.lib,
# kept outside this repository (its files are MIT-licensed but are not ours to commit).
#
# Usage: bash scripts/nixpkgs-lib-suite.sh DIR [--nix]
#   --nix  runs Nix's nix-instantiate instead, to check the harness and the checkout (the oracle).
# Needs a build (bash scripts/setup.sh). Exit status 0 when every test passes.
#
# The checkout is copied to a temporary directory first. A nixpkgs.lib checkout has no nixpkgs
# default.nix, which two of misc.nix's tests import for `hello`; the copy gets a stand-in with a
# `hello` derivation. tix has no evaluation timeout, so the shim drops modules.sh's `--timeout 1`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:?usage: bash scripts/nixpkgs-lib-suite.sh DIR [--nix]}"
use_nix="${2:-}"
[ -f "$dir/lib/tests/modules.sh" ] || { echo "error: '$dir' is not a nixpkgs or nixpkgs.lib checkout (no lib/tests/modules.sh)" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tix-nixpkgs-lib.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/bin" "$tmp/etc"
cp -r "$dir/lib" "$tmp/src/lib"
if [ -f "$dir/default.nix" ] && [ -d "$dir/pkgs" ]; then
  echo "note: a full nixpkgs: misc.nix evaluates its real hello" >&2
  ln -s "$dir/pkgs" "$tmp/src/pkgs"
  cp "$dir/default.nix" "$tmp/src/default.nix"
  [ -d "$dir/nixos" ] && ln -s "$dir/nixos" "$tmp/src/nixos"
else
  echo '{ system ? builtins.currentSystem, ... }: { hello = derivation { name = "hello-2.12"; inherit system; builder = "/bin/sh"; }; }' \
    > "$tmp/src/default.nix"
fi
printf 'substituters =\nbuild-users-group =\n' > "$tmp/etc/nix.conf"

if [ "$use_nix" = --nix ]; then
  export NIX_REMOTE="local?root=$tmp/store" NIX_CONF_DIR="$tmp/etc"
  which nix-instantiate > /dev/null
else
  cat > "$tmp/bin/nix-instantiate" <<EOF
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
  case "\$1" in
    --timeout) shift 2 ;;
    *) args+=("\$1"); shift ;;
  esac
done
exec "$root/bin/tix" instantiate "\${args[@]}"
EOF
  chmod +x "$tmp/bin/nix-instantiate"
  export PATH="$tmp/bin:$PATH" TIX_STORE="local?root=$tmp/store" TIX_CONF_DIR="$tmp/etc"
fi
export NIX_PATH="nixpkgs=$tmp/src"

failed=0
for t in misc systems; do
  f="$tmp/src/lib/tests/$t.nix"
  [ -f "$f" ] || continue
  if out="$(cd "$tmp/src" && nix-instantiate --eval --strict "lib/tests/$t.nix" 2>&1)" && [ "$out" = "[ ]" ]; then
    echo "lib/tests/$t.nix: ok"
  else
    echo "lib/tests/$t.nix: FAILED"
    printf '%s\n' "$out" | head -40 | sed 's/^/  /'
    failed=1
  fi
done
if (cd "$tmp/src" && bash lib/tests/modules.sh) > "$tmp/modules.log" 2>&1; then
  echo "lib/tests/modules.sh: $(grep -E '^[0-9]+ Pass' "$tmp/modules.log"), $(grep -E '^[0-9]+ Fail' "$tmp/modules.log")"
else
  echo "lib/tests/modules.sh: FAILED ($(grep -E '^[0-9]+ (Pass|Fail)' "$tmp/modules.log" | tr '\n' ' '))"
  grep -A12 '^error: Expected' "$tmp/modules.log" | head -80 | sed 's/^/  /'
  failed=1
fi
exit "$failed"
