#!/usr/bin/env bash
# The README's two commands.
#   scripts/quickstart.sh serve   install build deps, build, run `foreshock serve` in the foreground
#   scripts/quickstart.sh test    install test deps, build everything, run the whole test suite
# Environment: BUILD_DIR (default build), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
build="${BUILD_DIR:-build}"
jobs="${JOBS:-$(nproc)}"
case "$mode" in
  serve)
    bash scripts/install-deps.sh build
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORESHOCK_TESTS=OFF \
      -DFORESHOCK_BENCH=OFF
    cmake --build "$build" --target foreshock -j "$jobs"
    shift
    exec "./$build/foreshock" serve "$@"
    ;;
  test)
    bash scripts/install-deps.sh test
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORESHOCK_WERROR=ON
    cmake --build "$build" -j "$jobs"
    # Unit tests run in parallel; integration, scenario, fuzz and packaging tests are marked
    # RUN_SERIAL (they use namespaces, ports and CPU time) and run one at a time.
    exec ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: $0 serve|test" >&2
    exit 2
    ;;
esac
