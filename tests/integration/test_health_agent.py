"""The health engine inside `foreshock serve`: its series are part of the served snapshot and
pass promtool; the history is written at shutdown under state.directory; a corrupt history
file at start is reported, moved aside and replaced, and the agent keeps serving."""
import atexit
import glob
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import Agent, check, parse_metrics, promtool_check, value, wait_for  # noqa: E402

tmp = tempfile.mkdtemp(prefix="foreshock-health-agent-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # also when a check fails (sys.exit)
state = os.path.join(tmp, "state")
config = os.path.join(tmp, "foreshock.yml")
with open(config, "w") as f:
    f.write(f"state:\n  directory: {state}\n  save_interval: 10s\nhealth:\n  record_interval: 1s\n")
history = os.path.join(state, "history.bin")
args = ["--config", config, "--web.listen-address", "127.0.0.1:0", "serve"]

with Agent(args) as agent:
    text = wait_for(lambda: (lambda t: t if "foreshock_health_history_entities" in t else None)(agent.metrics()),
                    timeout=20, what="health series in /metrics")
    promtool_check(text)
    m = parse_metrics(text)
    check(value(m, "foreshock_health_history_load_rejected") == 0, "fresh start flagged as rejected")
    check("no history at" in agent.output(), f"missing-history start not logged:\n{agent.output()}")
    rc = agent.stop()
    check(rc == 0, f"agent exited {rc}")
check(os.path.exists(history), "history not written at shutdown")
with open(history, "rb") as f:
    check(f.read(8) == b"FSHIST\n\x00", "history file lacks its magic")

# Restart on a good file: loaded.
with Agent(args) as agent:
    wait_for(lambda: "history loaded from" in agent.output(), timeout=20, what="history loaded log")

# Corrupt it: reported, moved aside, replaced; the agent serves on.
with open(history, "r+b") as f:
    f.seek(30)
    f.write(b"\xff\xff\xff\xff")
with Agent(args) as agent:
    wait_for(lambda: "history file rejected" in agent.output(), timeout=20, what="rejection logged")
    log = agent.output()
    check("checksum" in log or "malformed" in log or "truncated" in log, f"reason not logged:\n{log}")
    check("moved aside to" in log, f"move-aside not logged:\n{log}")
    m = parse_metrics(wait_for(lambda: (lambda t: t if "foreshock_health_history_load_rejected" in t else None)(agent.metrics()),
                               timeout=20, what="health series after a corrupt file"))
    check(value(m, "foreshock_health_history_load_rejected") == 1, "load_rejected not 1")
    check(glob.glob(history + ".corrupt-*"), "corrupt file not moved aside")
    agent.stop()
check(os.path.exists(history), "no fresh history written after the corrupt one")
print("ok")
