"""TCP probes count lost handshake packets from the kernel's own count (TCP_INFO
tcpi_total_retrans): with every other SYN to one port dropped by nftables, that target shows
SYN retransmissions and loss, while a target on an undisturbed port shows none. Runs inside a
network namespace of its own (fssy-), which it removes even on failure."""
import os
import subprocess
import sys
import tempfile
import threading
import socket

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import (Agent, check, fail, parse_metrics, promtool_check, require_root,  # noqa: E402
                   require_tool, value, wait_for)

NS = "fssy-syn"
DROPPED, CLEAN = 7777, 7778


def outer():
    require_root()
    require_tool("nft")
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        env = dict(os.environ, FSSY_INNER="1")
        p = subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__)],
                           env=env, timeout=120)
        sys.exit(p.returncode)
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def serve(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)

    def loop():
        while True:
            c, _ = srv.accept()
            c.close()
    threading.Thread(target=loop, daemon=True).start()


def inner():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    rules = f"""table inet fssy {{
  chain out {{
    type filter hook output priority 0;
    tcp dport {DROPPED} tcp flags & (syn|ack) == syn numgen inc mod 2 == 0 drop
  }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    serve(DROPPED)
    serve(CLEAN)
    with tempfile.TemporaryDirectory(prefix="fssy-") as tmp:
        cfg = os.path.join(tmp, "foreshock.yml")
        with open(cfg, "w") as f:
            f.write(f"""collectors:
  probe:
    interval: 1s
    timeout: 1s
    gateway_probes: []
    lldp_management: false
    targets:
      - {{name: lossy, address: 127.0.0.1, kind: tcp, port: {DROPPED}, interval: 1500ms}}
      - {{name: clean, address: 127.0.0.1, kind: tcp, port: {CLEAN}, interval: 1500ms}}
state:
  directory: {os.path.join(tmp, "state")}
""")
        args = ["--config", cfg, "--web.listen-address=127.0.0.1:0"]
        for c in ("smart", "sensors", "netdev", "lldp"):
            args.append(f"--no-collector.{c}")
        with Agent(args + ["serve"]) as agent:
            def enough():
                m = parse_metrics(agent.metrics())
                v = value(m, "foreshock_probe_tcp_syn_retransmits_total", name="lossy")
                return m if v is not None and v >= 2 else None
            m = wait_for(enough, timeout=30, what="two SYN retransmissions on the lossy target")
            promtool_check(agent.metrics())
            clean = value(m, "foreshock_probe_tcp_syn_retransmits_total", name="clean")
            check(clean == 0, f"the undisturbed target shows {clean} SYN retransmissions")
            loss = value(m, "foreshock_probe_loss_ratio", name="lossy", window="1m")
            check(loss is not None and 0.2 <= loss <= 0.8,
                  f"loss ratio of the lossy target is {loss}, expected about 0.5 (one SYN in two lost)")
            check(value(m, "foreshock_probe_loss_ratio", name="clean", window="1m") == 0,
                  "the clean target has no loss")
            check(value(m, "foreshock_probe_up", name="lossy") == 1, "the lossy target still answers")
    print("test_probe_tcp_syn_loss: ok")


if __name__ == "__main__":
    inner() if os.environ.get("FSSY_INNER") == "1" else outer()
