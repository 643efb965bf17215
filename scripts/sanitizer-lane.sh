#!/usr/bin/env bash
# ASan+UBSan lane: runs one group of tests against the sanitizer build (scripts/sanitizer-build.sh,
# shared with the fuzz smoke run). Any sanitizer report from any process fails the run, even one
# whose test would not have noticed (reports go to files, printed here).
# Usage: scripts/sanitizer-lane.sh BUILD_DIR unit|hostile
#   unit:    every unit test binary (tests/unit/<component>), each run once as a whole: one
#            process per binary, not one per case, keeps ASan's start-up cost down
#   hostile: the hostile-input integration tests (ctest label "hostile")
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"; group="$2"
case "$group" in unit|hostile) ;; *) echo "unknown group '$group' (unit, hostile)" >&2; exit 2;; esac
scripts/sanitizer-build.sh "$build"
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
status=0
start=$(date +%s)
if [ "$group" = unit ]; then
  bins=("$build"/*_test)
  [ -x "${bins[0]}" ] || { echo "sanitizer-lane: no unit test binaries in $build" >&2; exit 1; }
  for t in "${bins[@]}"; do
    echo "sanitizer-lane: $(basename "$t")"
    "$t" --gtest_brief=1 || { echo "sanitizer-lane: $(basename "$t") FAILED"; status=1; }
  done
else
  ctest --test-dir "$build" -L "^$group\$" --no-tests=error --output-on-failure -j1 || status=1
fi
echo "sanitizer-lane: $group tests took $(( $(date +%s) - start ))s"
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer-lane: sanitizer reports:"
  for f in "$reports"/*; do echo "== $f"; cat "$f"; done
  status=1
fi
exit $status
