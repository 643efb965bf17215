#!/usr/bin/env bash
# The README's two commands.
#   scripts/quickstart.sh serve   install build deps, build, run `foreshock serve` in the foreground
#   scripts/quickstart.sh test    install test deps, build everything, run the whole test suite
# Each mode has its own build directory and sets every option it needs, so the two commands
# work in either order in one clone (a serve build never leaves the test build without tests).
# Environment: BUILD_DIR (default build for serve, build-test for test), JOBS (default: number
# of cores), FORESHOCK_CTEST_ARGS (extra ctest options), FORESHOCK_LAB_PREBUILD=0 (do not
# build the lab's guest image in the background during the compile).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
jobs="${JOBS:-$(nproc)}"
# The same compiler options for both modes (warnings are errors: the README's machine is
# Debian 12, whose compiler this code is clean on), and ccache when it is installed
# (install-deps installs it): a second build of the same sources, in this clone or another,
# is then mostly cache hits. CCACHE_BASEDIR makes the cached commands independent of where the
# clone lives.
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORESHOCK_WERROR=ON -DFORESHOCK_ASAN=OFF
        -DFORESHOCK_UBSAN=OFF -DFORESHOCK_FUZZ=OFF)
if command -v ccache >/dev/null; then
  common+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
case "$mode" in
  serve)
    build="${BUILD_DIR:-build}"
    bash scripts/install-deps.sh build
    cmake -S . -B "$build" "${common[@]}" -DFORESHOCK_TESTS=OFF -DFORESHOCK_BENCH=OFF
    cmake --build "$build" --target foreshock -j "$jobs"
    shift
    exec "./$build/foreshock" serve "$@"
    ;;
  test)
    build="${BUILD_DIR:-build-test}"
    bash scripts/install-deps.sh test
    # FORESHOCK_LAB: the QEMU hardware lab (tests/lab/README.md; qemu and mmdebstrap come from
    # install-deps.sh, and the lab fails loudly without them). The guest image is built once
    # into $build/lab (about 15 minutes, needs the Debian mirror) and reused afterwards.
    cmake -S . -B "$build" "${common[@]}" -DFORESHOCK_TESTS=ON -DFORESHOCK_BENCH=ON \
      -DFORESHOCK_LAB=ON
    # The guest image needs no compiled code and mostly waits on the mirror and dpkg, so it is
    # built in the background while the code compiles (log: $build/lab-image.log); the lab.image
    # test waits for it (scripts/lab-image.sh locks its cache) and fails loudly if it failed.
    # FORESHOCK_LAB_PREBUILD=0 leaves it to the lab.image test.
    if [[ "${FORESHOCK_LAB_PREBUILD:-1}" != 0 ]]; then
      mkdir -p "$build"
      bash scripts/lab-image.sh "$build/lab" >"$build/lab-image.log" 2>&1 &
    fi
    cmake --build "$build" -j "$jobs"
    # Unit tests run in parallel; integration, scenario, fuzz and packaging tests are marked
    # RUN_SERIAL (they use namespaces, ports and CPU time) and run one at a time.
    # FORESHOCK_CTEST_ARGS adds ctest options (tests/integration/test_clone.py lists the suite
    # with -N instead of running it).
    # shellcheck disable=SC2086
    exec ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" \
      ${FORESHOCK_CTEST_ARGS:-}
    ;;
  *)
    echo "usage: $0 serve|test" >&2
    exit 2
    ;;
esac
