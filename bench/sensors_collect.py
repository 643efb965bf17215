#!/usr/bin/env python3
"""Benchmark of the sensors collector on the fixture tree (7 hwmon chips, 40+ attributes,
2 thermal zones) read through the real libsensors in a private mount namespace (root).

Runs `foreshock collect` N times (each is a fresh process: libsensors init + one cycle) and
`foreshock serve` for a number of 1s cycles (steady state: no re-init), and prints the
collector's own foreshock_collector_duration_seconds. Usage (after building):
  FORESHOCK_BIN=build/foreshock python3 bench/sensors_collect.py [collects] [serve-cycles]
Timings are wall-clock on a shared machine: treat them as orders of magnitude."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import fslib  # noqa: E402
from sensors_ns import Fixture  # noqa: E402

CFG = """
collectors:
  sensors:
    config_file: /dev/null
    drivetemp: true
"""


def main():
    collects = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cycles = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with Fixture() as fx:
        first = []
        for _ in range(collects):
            m, _, _ = fx.collect(CFG)
            first.append(fslib.value(m, "foreshock_collector_duration_seconds", collector="sensors"))
        series = sum(1 for (n, _) in m if n.startswith(("foreshock_sensor", "foreshock_thermal", "foreshock_cooling")))
        print(f"collect (init + 1 cycle): {collects} runs, {series} series, median "
              f"{statistics.median(first) * 1000:.2f} ms, max {max(first) * 1000:.2f} ms")
        steady = []
        with fx.agent(CFG + "    interval: 1s\n    timeout: 1s\n") as agent:
            last = None
            deadline = time.monotonic() + cycles * 2 + 10
            while len(steady) < cycles and time.monotonic() < deadline:
                m = fslib.parse_metrics(agent.metrics())
                ts = fslib.value(m, "foreshock_collector_last_success_timestamp_seconds", collector="sensors")
                if ts and ts != last:
                    if last is not None:
                        steady.append(fslib.value(m, "foreshock_collector_duration_seconds", collector="sensors"))
                    last = ts
                time.sleep(0.2)
            rss = fslib.value(fslib.parse_metrics(agent.metrics()), "process_resident_memory_bytes")
        print(f"serve steady state: {len(steady)} cycles, median {statistics.median(steady) * 1000:.2f} ms, "
              f"max {max(steady) * 1000:.2f} ms" + (f", agent RSS {rss / 1e6:.1f} MB" if rss else ""))


if __name__ == "__main__":
    main()
