#!/usr/bin/env bash
# Replays the full shared Backblaze data set (2.45 M drive-days, 10,336 drives) through
# `foreshock replay` and reports wall time, throughput and peak memory.
# Usage: bench/replay.sh [path/to/foreshock]   (default build/foreshock). Noisy on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/foreshock}"
data=../shared/data/backblaze/ST4000DM000-2018
out=$(mktemp)
log=$(mktemp)
/usr/bin/time -f '%e %M' -o "$log" "$bin" replay --backblaze "$data/failed_drives.csv" \
  --backblaze "$data/healthy_drives.csv.gz" -o "$out"
read -r secs kb < "$log"
rows=$(( $(wc -l < "$data/failed_drives.csv") - 1 + $(zcat "$data/healthy_drives.csv.gz" | wc -l) - 1 ))
drives=$(( $(wc -l < "$out") - 1 ))
echo "replay: $rows rows, $drives drives in ${secs}s ($(awk -v r="$rows" -v s="$secs" 'BEGIN{printf "%.0f", r/s}') rows/s), peak RSS $((kb / 1024)) MiB"
rm -f "$out" "$log"
