#!/usr/bin/env bash
# The README's two commands.
#   scripts/quickstart.sh serve   install build deps, build, run `foreshock serve` in the foreground
#   scripts/quickstart.sh test    install test deps, build everything, run the whole test suite
# Each mode has its own build directory and sets every option it needs, so the two commands
# work in either order in one clone (a serve build never leaves the test build without tests).
# Environment: BUILD_DIR (default build for serve, build-test for test), JOBS (default: number
# of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
jobs="${JOBS:-$(nproc)}"
case "$mode" in
  serve)
    build="${BUILD_DIR:-build}"
    bash scripts/install-deps.sh build
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORESHOCK_TESTS=OFF \
      -DFORESHOCK_BENCH=OFF
    cmake --build "$build" --target foreshock -j "$jobs"
    shift
    exec "./$build/foreshock" serve "$@"
    ;;
  test)
    build="${BUILD_DIR:-build-test}"
    bash scripts/install-deps.sh test
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORESHOCK_WERROR=ON \
      -DFORESHOCK_TESTS=ON -DFORESHOCK_BENCH=ON -DFORESHOCK_ASAN=OFF -DFORESHOCK_UBSAN=OFF \
      -DFORESHOCK_FUZZ=OFF
    cmake --build "$build" -j "$jobs"
    # Unit tests run in parallel; integration, scenario, fuzz and packaging tests are marked
    # RUN_SERIAL (they use namespaces, ports and CPU time) and run one at a time.
    exec ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs"
    ;;
  *)
    echo "usage: $0 serve|test" >&2
    exit 2
    ;;
esac
