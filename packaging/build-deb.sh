#!/usr/bin/env bash
# Builds the foreshock .deb with dpkg-buildpackage from a temporary copy of the source tree,
# with packaging/debian copied to ./debian there (the source tree itself stays free of a
# top-level debian/ directory and of build products).
#
# Usage: packaging/build-deb.sh OUTDIR [PREBUILT_BINARY]
#   OUTDIR           where the .deb, .buildinfo and .changes land (created if missing)
#   PREBUILT_BINARY  package this already built foreshock binary instead of compiling one
#                    (used by tests/packaging/test_deb.py; leave it out for a real package)
# DEB_BUILD_OPTIONS is honoured; nocheck, noddebs and parallel=2 are always added.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:?usage: build-deb.sh OUTDIR [PREBUILT_BINARY]}")
prebuilt=${2:-}
if [[ -n "$prebuilt" ]]; then prebuilt=$(realpath "$prebuilt"); fi
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/foreshock-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/foreshock"
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # What a clean clone holds, plus files not yet committed (but never ignored build trees).
  (cd "$src" && git ls-files -z -co --exclude-standard) |
    (cd "$src" && tar --null -T - -cf -) | tar -C "$tree" -xf -
else
  tar -C "$src" --exclude='./build*' -cf - . | tar -C "$tree" -xf -
fi
rm -rf "$tree/debian"
cp -a "$tree/packaging/debian" "$tree/debian"
(
  cd "$tree"
  export DEB_BUILD_OPTIONS="nocheck noddebs parallel=2 ${DEB_BUILD_OPTIONS:-}"
  export FORESHOCK_PREBUILT_BINARY="$prebuilt"
  dpkg-buildpackage -us -uc -b
)
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
ls "$out"/*.deb
