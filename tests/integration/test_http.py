"""foreshock serve as a scrape target: IPv4 and IPv6 listeners, every endpoint, gzip,
promtool on the real output, a silent client that must not block scrapes, signals."""
import gzip
import os
import signal
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import Agent, check, fail, parse_metrics, promtool_check, value, wait_for  # noqa: E402


def status_of(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def main():
    with Agent(["--web.listen-address=127.0.0.1:0", "--web.listen-address=[::1]:0", "serve"]) as agent:
        check(len(agent.addresses) == 2, f"expected two bound addresses, got {agent.addresses}")
        check(agent.addresses[0].startswith("127.0.0.1:") and not agent.addresses[0].endswith(":0"),
              f"IPv4 listener should log its real port: {agent.addresses[0]}")
        check(agent.addresses[1].startswith("[::1]:"), f"IPv6 listener: {agent.addresses[1]}")

        # Ready once the first collection is in.
        wait_for(lambda: status_of(agent.url("/-/ready"))[0] == 200, what="/-/ready to answer 200")
        for idx in (0, 1):
            st, hdr, body = status_of(agent.url("/metrics", idx))
            check(st == 200, f"/metrics over {agent.addresses[idx]} answered {st}")
            check(hdr.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
                  f"content type: {hdr.get('Content-Type')}")
            text = body.decode()
            promtool_check(text)
            m = parse_metrics(text)
            check(value(m, "foreshock_collector_success", collector="self") == 1, "self collector success")
            check(value(m, "process_resident_memory_bytes") and value(m, "process_resident_memory_bytes") > 0,
                  "process RSS exported")
            check(value(m, "foreshock_build_info") == 1, "build info exported")

        # Keep-alive: Prometheus reuses its connection; two scrapes on one connection.
        import http.client
        host, port = agent.addresses[0].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        for _ in range(2):
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            r.read()
            check(r.status == 200, "keep-alive scrape status")
            check((r.getheader("Connection") or "").lower() != "close", "connection kept alive")
        conn.close()

        st, hdr, body = status_of(agent.url("/"))
        check(st == 200 and b'href="/metrics"' in body, "landing page links to /metrics")
        check(status_of(agent.url("/-/healthy"))[0] == 200, "/-/healthy is 200")
        check(status_of(agent.url("/nope"))[0] == 404, "unknown path is 404")
        check(status_of(agent.url("/metrics/"))[0] == 404, "/metrics/ is 404")
        st, hdr, _ = status_of(agent.url("/metrics"), method="POST")
        check(st == 405 and hdr.get("Allow") == "GET, HEAD", f"POST is 405 with Allow (got {st}, {hdr})")
        check(status_of(agent.url("/metrics"), method="DELETE")[0] == 405, "DELETE is 405")
        st, hdr, body = status_of(agent.url("/metrics"), method="HEAD")
        check(st == 200 and body == b"", "HEAD answers 200 without a body")

        req = urllib.request.Request(agent.url("/metrics"), headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=5) as r:
            check(r.headers.get("Content-Encoding") == "gzip", "gzip served when asked")
            plain = gzip.decompress(r.read()).decode()
            check("foreshock_build_info" in plain, "gzip body decompresses to the exposition")
        req = urllib.request.Request(agent.url("/metrics"), headers={"Accept-Encoding": "gzip;q=0"})
        with urllib.request.urlopen(req, timeout=5) as r:
            check(r.headers.get("Content-Encoding") is None, "gzip;q=0 means no gzip")

        # A client that connects and sends nothing must not block other scrapes.
        host, port = agent.addresses[0].rsplit(":", 1)
        silent = [socket.create_connection((host, int(port))) for _ in range(3)]
        half = socket.create_connection((host, int(port)))
        half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        t0 = time.monotonic()
        for _ in range(20):
            st, _, _ = status_of(agent.url("/metrics"))
            check(st == 200, "scrape while silent clients are connected")
        elapsed = time.monotonic() - t0
        check(elapsed < 5, f"20 scrapes took {elapsed:.2f}s with silent clients connected")
        for s in silent + [half]:
            s.close()


    # Reload behaviour needs an agent started with --config.
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    cfg.write("collectors:\n  self:\n    interval: 1s\n    timeout: 1s\n")
    cfg.close()
    try:
        with Agent(["--config", cfg.name, "--web.listen-address=127.0.0.1:0", "serve"]) as agent:
            wait_for(lambda: status_of(agent.url("/-/ready"))[0] == 200, what="ready")
            with open(cfg.name, "w") as f:
                f.write("collectors:\n  self:\n    intervl: 1s\n")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: "new configuration rejected" in agent.output(), what="reload rejection log line")
            check(f"{cfg.name}:3: collectors.self.intervl: unknown key" in agent.output(),
                  "the rejection names file, line and key:\n" + agent.output())
            check(status_of(agent.url("/metrics"))[0] == 200, "still serving after a bad reload")
            with open(cfg.name, "w") as f:
                f.write("collectors:\n  self:\n    enabled: false\n")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: "configuration reloaded" in agent.output(), what="reload log line")
            # The self collector is disabled now, so its series leave the next snapshot.
            wait_for(lambda: "process_cpu_seconds_total" not in agent.metrics(), what="self disabled")

            # SIGTERM: clean exit within a second.
            t0 = time.monotonic()
            agent.signal(signal.SIGTERM)
            rc = agent.proc.wait(timeout=5)
            took = time.monotonic() - t0
            check(rc == 0, f"exit code after SIGTERM: {rc}")
            check(took < 1.0, f"SIGTERM took {took:.2f}s to stop")
    finally:
        os.unlink(cfg.name)
    print("test_http: ok")


if __name__ == "__main__":
    main()
