#!/bin/bash
# Usage: bash scripts/lang-errors.sh DIR [--verbose]
# Compares the whole output of `tix eval --strict` with `nix-instantiate --eval --strict` (Nix 2.8,
# the oracle) on every eval-fail-*.nix and parse-fail-*.nix of Nix's official language suite (DIR:
# tests/functional/lang of a NixOS/nix checkout, kept outside this repository): exit status,
# stdout and stderr byte for byte. Prints the cases that differ (with both outputs when
# --verbose) and a count per kind. Runs tix from this checkout (bin/tix) on a throw-away store.
set -u
dir=${1:?usage: bash scripts/lang-errors.sh DIR [--verbose]}
verbose=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TIX_STORE="local?root=$work/root" TIX_CONF_DIR="$work/etc" NIX_PATH=
mkdir -p "$work/etc"
for kind in eval-fail parse-fail; do
  same=0
  total=0
  for f in "$dir"/$kind-*.nix; do
    [ -e "$f" ] || continue
    total=$((total + 1))
    b=$(basename "$f")
    (cd "$dir" && timeout 20 nix-instantiate --eval --strict "$b" >"$work/n.out" 2>"$work/n.err")
    nc=$?
    (cd "$dir" && timeout 20 "$root/bin/tix" eval --strict "$b" >"$work/t.out" 2>"$work/t.err")
    tc=$?
    if [ "$nc" = "$tc" ] && cmp -s "$work/n.out" "$work/t.out" && cmp -s "$work/n.err" "$work/t.err"; then
      same=$((same + 1))
    else
      echo "DIFF $b (exit: nix $nc, tix $tc)"
      if [ "$verbose" = --verbose ]; then
        echo "--- nix-instantiate 2.8"
        head -c 2000 "$work/n.out" "$work/n.err"
        echo "--- tix"
        head -c 2000 "$work/t.out" "$work/t.err"
      fi
    fi
  done
  echo "$kind: $same/$total identical to Nix 2.8 (exit status, stdout, stderr)"
done
