#!/usr/bin/env bash
# Configures and builds the one clang sanitizer build that serves the fuzz smoke run, the unit
# tests and the hostile-input tests: AddressSanitizer, UndefinedBehaviorSanitizer with
# -fno-sanitize-recover (a finding aborts the process, so it fails the test), and libFuzzer
# coverage on every library. Usage: scripts/sanitizer-build.sh BUILD_DIR [TARGET...]
# (no target: everything but the benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"; shift
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFORESHOCK_FUZZ=ON -DFORESHOCK_ASAN=ON -DFORESHOCK_UBSAN=ON -DFORESHOCK_TESTS=ON \
  -DFORESHOCK_BENCH=OFF "${launcher[@]}" >/dev/null
ninja -C "$build" -j "$(nproc)" "$@"
