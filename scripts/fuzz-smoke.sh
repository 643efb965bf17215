#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan, UBSan without recovery) and runs each for a bounded time on its seed
# corpus. Usage: scripts/fuzz-smoke.sh [seconds-per-target]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
build="${FORESHOCK_FUZZ_BUILD_DIR:-build-fuzz}"
# The same clang ASan+UBSan build as the sanitizer lane (scripts/sanitizer-lane.sh), so one
# build serves the fuzz targets, the unit tests and the hostile-input tests.
scripts/sanitizer-build.sh "$build" fuzz-targets
# Crash and timeout inputs are written under the build directory (never into the source tree);
# a fuzzer that finds one fails the run and its path is printed. Keep a found input as a
# regression seed by copying it into tests/fuzz/corpus/TARGET/ once the bug is fixed.
artifacts="$(cd "$build" && pwd)/artifacts"
mkdir -p "$artifacts"
status=0
for t in "$build"/fuzz_*; do
  name=$(basename "$t"); name=${name#fuzz_}
  corpus=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "fuzz-smoke: $name for ${secs}s"
  if ! timeout --kill-after=10 $((secs + 60)) "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       -artifact_prefix="$artifacts/$name-" \
       "$work" >"$work.log" 2>&1; then
    echo "fuzz-smoke: $name FAILED"; tail -40 "$work.log"; ls -l "$artifacts"/"$name"-* 2>/dev/null || true; status=1
  fi
  rm -rf "$work" "$work.log"
done
exit $status
