"""Benchmark: what TLS and basic auth cost a scrape.

Runs the agent three ways (plain HTTP; TLS; TLS + basic auth with a bcrypt cost-10 hash) and
measures with one keep-alive client: the first authenticated request (pays bcrypt once), then
the median and p99 latency of N /metrics requests (credentials cached), plus the cost of a new
TLS connection per request (Prometheus reuses connections, so this is the worst case).

Usage: FORESHOCK_BIN=build/foreshock python3 bench/web_tls_auth.py [N]
Needs openssl and htpasswd (apache2-utils). Figures are noisy on a shared machine.
"""
import base64
import http.client
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from fslib import Agent, run  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def certs(d):
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{d}/k.pem", "-out", f"{d}/c.pem", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1"])


def measure(addr, tls, auth, ctx):
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()

    def conn():
        host, port = addr.rsplit(":", 1)
        if tls:
            return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
        return http.client.HTTPConnection(host, int(port), timeout=10)

    c = conn()
    t = time.perf_counter()
    c.request("GET", "/metrics", headers=headers)
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
    first = time.perf_counter() - t
    lat = []
    for _ in range(N):
        t = time.perf_counter()
        c.request("GET", "/metrics", headers=headers)
        r = c.getresponse()
        r.read()
        lat.append(time.perf_counter() - t)
    c.close()
    fresh = []
    for _ in range(max(20, N // 10)):
        t = time.perf_counter()
        c = conn()
        c.request("GET", "/metrics", headers=headers)
        c.getresponse().read()
        c.close()
        fresh.append(time.perf_counter() - t)
    lat.sort()
    return first, statistics.median(lat), lat[int(len(lat) * 0.99) - 1], statistics.median(fresh)


def main():
    d = tempfile.mkdtemp(prefix="fspk-bench-")
    certs(d)
    hashed = run(["htpasswd", "-nbBC", "10", "prom", "pw"]).stdout.strip().split(":", 1)[1]
    ctx = ssl.create_default_context(cafile=f"{d}/c.pem")
    cases = [("plain HTTP", "", None),
             ("TLS", f"tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n", None),
             ("TLS + basic auth (bcrypt cost 10)",
              f"tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\nbasic_auth_users:\n  prom: '{hashed}'\n",
              "prom:pw")]
    print(f"{'mode':36} {'first req':>10} {'median':>9} {'p99':>9} {'new conn':>9}   (N={N})")
    for name, web, auth in cases:
        args = ["--web.listen-address", "127.0.0.1:0"]
        if web:
            with open(f"{d}/web.yml", "w") as f:
                f.write(web)
            args += ["--web.config.file", f"{d}/web.yml"]
        with Agent(args + ["serve"]) as a:
            first, med, p99, fresh = measure(a.addresses[0], bool(web), auth, ctx)
        print(f"{name:36} {first*1e3:8.2f}ms {med*1e3:7.3f}ms {p99*1e3:7.3f}ms {fresh*1e3:7.2f}ms")


if __name__ == "__main__":
    main()
