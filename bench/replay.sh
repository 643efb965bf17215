#!/usr/bin/env bash
# Replays a Backblaze data set through `foreshock replay` and reports wall time, throughput and
# peak memory. DIR holds failed_drives.csv and one healthy_drives*.csv.gz: by default the slice
# in tests/fixtures/data (1,836 drives); the figures in docs/prediction.md are for the team's
# full set (2.45 M drive-days, 10,336 drives), which is kept outside the repository.
# Usage: bench/replay.sh [path/to/foreshock [DIR]]   (default build/foreshock). Noisy on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/foreshock}"
data="${2:-tests/fixtures/data/backblaze/ST4000DM000-2018}"
healthy=$(ls "$data"/healthy_drives*.csv.gz | head -n1)
out=$(mktemp)
log=$(mktemp)
/usr/bin/time -f '%e %M' -o "$log" "$bin" replay --backblaze "$data/failed_drives.csv" \
  --backblaze "$healthy" -o "$out"
read -r secs kb < "$log"
rows=$(( $(wc -l < "$data/failed_drives.csv") - 1 + $(zcat "$healthy" | wc -l) - 1 ))
drives=$(( $(wc -l < "$out") - 1 ))
echo "replay: $rows rows, $drives drives in ${secs}s ($(awk -v r="$rows" -v s="$secs" 'BEGIN{printf "%.0f", r/s}') rows/s), peak RSS $((kb / 1024)) MiB"
rm -f "$out" "$log"
