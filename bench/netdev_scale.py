#!/usr/bin/env python3
"""Scale benchmark of the netdev collector against node_exporter, in one run.

Builds a namespace `fsnd-bench` with 500 veth pairs (1,000 interfaces, both ends inside it,
all up) with `ip -batch`, then inside that namespace:
  * node_exporter --collector.disable-defaults --collector.netdev --collector.netclass on a
    loopback port; its CPU per scrape is the utime+stime delta of its process over N scrapes;
  * build/netdev_scale_cycle: foreshock's netdev collect() + Prometheus text rendering per
    cycle (getrusage of the whole process), N cycles.
Prints both and the ratio (target: foreshock <= 0.1 x node_exporter). The namespace is
deleted and node_exporter killed at the end, even on failure. Needs root.

Usage: bench/netdev_scale.py [--pairs 500] [--runs 20] [--build build]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

NS = "fsnd-bench"


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kw)


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def bench_node_exporter(runs, port):
    exe = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if not exe:
        sys.exit("prometheus-node-exporter is not installed (scripts/install-deps.sh test)")
    proc = subprocess.Popen([exe, "--collector.disable-defaults", "--collector.netdev",
                             "--collector.netclass", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url, timeout=30).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    sys.exit("node_exporter did not start")
                time.sleep(0.2)
        for _ in range(2):  # warm-up
            urllib.request.urlopen(url, timeout=30).read()
        c0 = proc_cpu_seconds(proc.pid)
        walls = []
        size = 0
        series = 0
        for _ in range(runs):
            w0 = time.monotonic()
            body = urllib.request.urlopen(url, timeout=30).read()
            walls.append(time.monotonic() - w0)
            size = len(body)
            series = sum(1 for line in body.decode().splitlines()
                         if line.startswith("node_network_"))
        c1 = proc_cpu_seconds(proc.pid)
        walls.sort()
        return {"cpu_seconds_per_scrape": (c1 - c0) / runs, "wall_seconds_p50": walls[len(walls) // 2],
                "wall_seconds_max": walls[-1], "bytes": size, "network_series": series}
    finally:
        proc.kill()
        proc.wait()


def inside(args):
    cycle = os.path.join(args.build, "netdev_scale_cycle")
    links = len(os.listdir("/sys/class/net"))
    fs = json.loads(sh(cycle, str(args.runs), ".*").stdout)
    ne = bench_node_exporter(args.runs, 19199)
    ratio = fs["cpu_seconds_per_cycle"] / ne["cpu_seconds_per_scrape"] if ne["cpu_seconds_per_scrape"] else float("nan")
    print(json.dumps({"interfaces": links, "foreshock": fs, "node_exporter": ne,
                      "cpu_ratio_foreshock_over_node_exporter": ratio}, indent=2))
    print(f"\n{links} interfaces, {args.runs} runs each:")
    print(f"  foreshock netdev cycle (collect+render): {fs['cpu_seconds_per_cycle'] * 1e3:8.2f} ms CPU, "
          f"{fs['wall_seconds_p50'] * 1e3:8.2f} ms wall p50 ({fs['series']} series)")
    print(f"  node_exporter netdev+netclass scrape:    {ne['cpu_seconds_per_scrape'] * 1e3:8.2f} ms CPU, "
          f"{ne['wall_seconds_p50'] * 1e3:8.2f} ms wall p50 ({ne['network_series']} series)")
    print(f"  of which foreshock collect() alone:      {fs['collect_cpu_seconds_per_cycle'] * 1e3:8.2f} ms CPU "
          f"(rendering the text is the rest)")
    print(f"  CPU ratio foreshock / node_exporter: {ratio:.3f} (target <= 0.100)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build"))
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.inside:
        inside(args)
        return
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    sh("ip", "netns", "add", NS)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as f:
            for i in range(args.pairs):
                f.write(f"link add fsnd-s{i}a type veth peer name fsnd-s{i}b\n")
            for i in range(args.pairs):
                f.write(f"link set fsnd-s{i}a up\nlink set fsnd-s{i}b up\n")
            f.write("link set lo up\n")
            batch = f.name
        t0 = time.monotonic()
        sh("ip", "-n", NS, "-batch", batch)
        os.unlink(batch)
        print(f"created {args.pairs} veth pairs in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        time.sleep(1)  # let linkwatch settle carrier on every link
        p = subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__), "--inside",
                            "--runs", str(args.runs), "--build", args.build])
        sys.exit(p.returncode)
    finally:
        pids = subprocess.run(["ip", "netns", "pids", NS], capture_output=True, text=True).stdout.split()
        for pid in pids:
            subprocess.run(["kill", "-9", pid], capture_output=True)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


if __name__ == "__main__":
    main()
