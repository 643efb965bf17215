"""Shared setup of the disk scenarios (3: disk degrading, 4: agent restart).

One agent runs `serve` with the smart collector (replay mode, 2 s interval), the self
collector and the health engine; every other collector the binary has is switched off with
its --no-collector flag (the host's own sensors, NICs and probes are not part of the
scenario). Its state directory and replay folder live in the Stack's work directory, so a
restarted agent finds the same history. A real Prometheus scrapes it every second with the
shipped rules (`for:` divided by FOR_SCALE) and a real Alertmanager delivers to the test's
webhook.

Time: the health engine's 7-day window is wall time, and the history store records the
collector's readings at wall time. Each replayed Backblaze day is one collector cycle here, so
a count that grew between two replayed days did grow within the last 7 days of the agent's
own clock: the rule sees exactly what it would see on a host whose drive got worse between two
reads. (A flat day replayed after a growth is, likewise, still within 7 days of it.)
"""
import os
import re
import signal
import subprocess

from disk_replay import ReplayDisk
from scenario_lib import Agent, check, poll
from fslib import BIN, parse_metrics, value

# Shipped `for:` durations divided by this: ForeshockDiskErrorsPresent (1h) needs 6 s,
# ForeshockDiskErrorsGrowing (10m) 1 s.
FOR_SCALE = 600
SMART_INTERVAL_S = 2


def write_config(path, replay_dir, state_dir):
    with open(path, "w") as f:
        f.write(f"""\
state:
  directory: {state_dir}
  save_interval: 10s          # the minimum; with SIGKILL only saved history survives
health:
  record_interval: 1s
collectors:
  self:
    interval: 1s
    timeout: 1s
  smart:
    replay_dir: {replay_dir}
    interval: {SMART_INTERVAL_S}s
    timeout: {SMART_INTERVAL_S}s
    read_timeout: 1s
""")


def other_collectors_off():
    """--no-collector.NAME for every collector of the binary except smart and self."""
    p = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
    names = sorted(set(re.findall(r"--no-collector\.([a-z0-9_]+)", p.stdout + p.stderr)))
    check("smart" in names, f"{BIN} --help lists no --no-collector.smart: {names}")
    return [f"--no-collector.{n}" for n in names if n not in ("smart", "self")]


class DiskAgent:
    """The agent of a disk scenario; start() again after kill() reuses port and state."""

    def __init__(self, st):
        self.st = st
        self.disk = ReplayDisk(st.workdir, "sda")
        self.state_dir = os.path.join(st.workdir, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.config = os.path.join(st.workdir, "foreshock.yml")
        write_config(self.config, self.disk.replay_dir, self.state_dir)
        self.flags = other_collectors_off()
        self.agent = None
        self.addr = None

    def start(self):
        listen = self.addr or "127.0.0.1:0"
        self.agent = self.st.enter(Agent(["--config", self.config, *self.flags,
                                          "--web.listen-address", listen, "serve"]))
        self.addr = self.agent.addresses[0]
        self.starts = getattr(self, "starts", 0) + 1
        self.st.show_log_on_failure(f"foreshock (start {self.starts})", self.agent)
        return self

    def kill(self):
        """SIGKILL: no shutdown save, only what the save timer wrote survives."""
        self.agent.proc.send_signal(signal.SIGKILL)
        self.agent.proc.wait()

    def metrics(self):
        return parse_metrics(self.agent.metrics())

    def show_day(self, row, timeout=30):
        """Writes one Backblaze day and waits until the agent published a reading of it (the
        power-on hours are unique per day); returns that scrape's metrics."""
        self.disk.write(row)
        want = int(float(row["smart_9_raw"])) * 3600.0

        def read():
            m = self.metrics()
            return m if value(m, "foreshock_disk_power_on_seconds_total", device="sda") == want else None

        return poll(read, timeout, f"the agent to read Backblaze day {row['date']}")

    def wait_status(self, chk, want, timeout=15):
        """Polls the agent until check `chk` of disk/sda has verdict `want`; returns the metrics.

        Why a wait after show_day: the engine records at most one history point per
        health.record_interval across all publishes, and evaluates against the history; a
        reading that lands within the interval of the previous record is recorded (and so
        counted as growth) at the next publish, up to record_interval later."""
        def got():
            m = self.metrics()
            return m if self.status(m, chk) == want else None

        return poll(got, timeout, f"the agent to report {chk} of disk/sda as {want}")

    def status(self, m, chk):
        return value(m, "foreshock_health_status", component="disk/sda", check=chk)

    def evidence(self, m, chk, name):
        return value(m, "foreshock_health_evidence", component="disk/sda", check=chk, evidence=name)


def check_alert(alert, name, severity, chk, addr, serial):
    """Labels every disk alert must carry at the webhook: the disk's serial among them, so the
    alert keys on the drive, not on the slot (a drive swapped into sda is another alert)."""
    labels = alert["labels"]
    want = {"alertname": name, "severity": severity, "component": "disk/sda", "check": chk,
            "serial": serial, "instance": addr, "job": "foreshock"}
    wrong = {k: (labels.get(k), v) for k, v in want.items() if labels.get(k) != v}
    check(not wrong, f"{name}: labels (got, want) {wrong}; all labels {labels}")


def wait_until(pred, timeout, what):
    return poll(pred, timeout, what, interval=0.25)
