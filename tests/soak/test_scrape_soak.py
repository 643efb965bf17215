"""Soak: `foreshock serve` scraped 1,000 times a second for 60 s over a keep-alive connection on
loopback (issue 13). Every scrape must be a 200 with the full exposition, the client must keep
the pace, and the agent's resident memory must stay flat (growth under 2 MB from after the
warm-up to the end). Prints the figures: rate, latency percentiles, RSS before and after, and
the unpaced capacity measured the same way for 5 s."""
import os
import re
import subprocess
import sys
import time
import urllib.error

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
from fslib import Agent, check, fail, wait_for  # noqa: E402

RATE = 1000
SECONDS = 60
RSS_GROWTH_BOUND_KB = 2048


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1))


def run_client(client, host, port, n, rate=0):
    p = subprocess.run([client, host, port, str(n), "plain", str(rate)], capture_output=True,
                       text=True, timeout=n / max(rate, 1000) + 120)
    if p.returncode != 0:
        fail(f"scrape_client {n} at {rate}/s failed ({p.returncode}): {p.stderr.strip()}")
    return dict(kv.split("=") for kv in p.stdout.split() if "=" in kv)


def ready(agent):
    try:
        return agent.get("/-/ready")[0] == 200
    except urllib.error.HTTPError:
        return False


def main():
    build = os.environ.get("FORESHOCK_BUILD_DIR", "")
    client = os.path.join(build, "scrape_client")
    if not os.access(client, os.X_OK):
        fail(f"{client} is missing: build the scrape_client target")
    with Agent(["--web.listen-address=127.0.0.1:0", "serve"]) as agent:
        host, port = agent.addresses[0].rsplit(":", 1)
        wait_for(lambda: ready(agent), timeout=30, what="the agent to be ready")
        run_client(client, host, port, 2000)  # warm-up: caches, allocator arenas, first render
        capacity = run_client(client, host, port, 5 * 20000 // 4)
        before = rss_kb(agent.proc.pid)
        t0 = time.monotonic()
        soak = run_client(client, host, port, RATE * SECONDS, RATE)
        took = time.monotonic() - t0
        after = rss_kb(agent.proc.pid)
        print(f"soak: {RATE * SECONDS} scrapes in {took:.1f}s (rate {soak['rate_per_s']}/s), "
              f"median {soak['median_us']} us, p99 {soak['p99_us']} us, max {soak['max_us']} us; "
              f"body {soak['body_bytes']} bytes; RSS {before} kB -> {after} kB "
              f"({after - before:+d} kB); unpaced capacity {capacity['rate_per_s']}/s "
              f"(median {capacity['median_us']} us)")
        check(float(soak["rate_per_s"]) >= RATE * 0.95,
              f"the soak kept only {soak['rate_per_s']} scrapes/s of {RATE}")
        check(after - before < RSS_GROWTH_BOUND_KB,
              f"RSS grew {after - before} kB over the soak (bound {RSS_GROWTH_BOUND_KB} kB)")
        rc = agent.stop()
        check(rc == 0, f"agent exit status {rc}:\n{agent.output()[-2000:]}")
    print("test_scrape_soak: ok")


if __name__ == "__main__":
    main()
