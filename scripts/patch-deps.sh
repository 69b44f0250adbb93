#!/bin/sh
# Applies patches/*.patch to the installed packages: npm ci runs it (package.json postinstall),
# so `bun test`, the benches and the compiled binary all run the same patched code (the build
# only checks). Each patch names the exact package version in its file name; one that no longer
# applies (an upgraded package) stops the install, rather than leaving the package unpatched.
#   scripts/patch-deps.sh            apply what is not applied yet
#   scripts/patch-deps.sh --verify   exit 1 unless every patch is applied (the build runs this)
set -eu
cd "$(dirname "$0")/.."
for p in patches/*.patch; do
  if git apply --reverse --check "$p" 2>/dev/null; then continue; fi
  if [ "${1:-}" = "--verify" ]; then
    echo "$p is not applied to node_modules: run npm ci (its postinstall applies it) or scripts/patch-deps.sh" >&2
    exit 1
  fi
  if ! git apply "$p"; then
    echo "$p does not apply to the installed package: review the patch for the version installed (package.json)" >&2
    exit 1
  fi
  echo "applied $p"
done
