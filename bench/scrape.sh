#!/usr/bin/env bash
# Scrape latency and memory of `foreshock serve` (issue 2 targets: median scrape < 1 ms,
# RSS < 8 MB with the self collector).
# Usage: bench/scrape.sh [BUILD_DIR] [EXTRA foreshock ARGS...]   e.g. bench/scrape.sh build
set -euo pipefail
build="${1:-build}"; shift || true
bin="$build/foreshock"
log=$(mktemp)
"$bin" --web.listen-address=127.0.0.1:0 "$@" serve >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
addr=$(sed -n 's/.*msg="listening on \([^"]*\)".*/\1/p' "$log" | head -1)
host=${addr%:*}; port=${addr##*:}
for _ in $(seq 100); do curl -fs "http://$addr/-/ready" >/dev/null && break; sleep 0.05; done
series=$(curl -fs "http://$addr/metrics" | grep -vc '^#')
echo "foreshock serve pid=$pid addr=$addr series=$series"
"$build/scrape_client" "$host" "$port" 200 >/dev/null   # warm-up
"$build/scrape_client" "$host" "$port" 5000
"$build/scrape_client" "$host" "$port" 5000 gzip
grep -E 'VmRSS|VmHWM' /proc/$pid/status | tr -s ' \t' ' '
echo "threads: $(ls /proc/$pid/task | wc -l)"
