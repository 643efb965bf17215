"""`foreshock check` end to end through --from-metrics (the collectors are not in this test:
the input is the exposition they publish).

- a replayed failing disk (real Backblaze rows of drive S300XJXN, its last 8 days as 8 scrapes)
  exits 2 and names the disk and the counter;
- the same disk then gone (foreshock_disk_up{reason="gone"}, as the smart collector reports a
  disk that disappeared) stays CRITICAL with its last problems;
- a virtio disk, as this project's own VM reports it (a real capture), is "no SMART (virtual
  disk)", INFO, and the check exits 0;

- a clean host exits 0, with all five sections and no colour when not on a TTY;
- kernel-reported errors (a disk returning I/O errors, a degraded md array) exit 2 and name them;
- the JSON report validates against docs/check-report.schema.json;
- a corrupt history file and a malformed exposition are reported, never a crash;
- a FIFO given as input is refused at once, naming it (never opened for reading, so never a
  hang);
- a collection that never finishes (a disk whose smartctl never answers) is cut off by
  --timeout: UNKNOWN and exit 3 at the bound, not a check that hangs its monitoring system.
"""
import atexit
import csv
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import jsonschema
except ImportError:  # the Debian interpreter has python3-jsonschema (scripts/install-deps.sh)
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("FAIL: python3-jsonschema is not installed (run scripts/install-deps.sh test)", file=sys.stderr)
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, TEST_DATA, SOURCE_DIR, check, collectors_off, run  # noqa: E402

FAILED_CSV = os.path.join(TEST_DATA, "backblaze", "ST4000DM000-2018", "failed_drives.csv")
SERIAL = "S300XJXN"
schema = json.load(open(os.path.join(SOURCE_DIR, "docs", "check-report.schema.json")))
tmp = tempfile.mkdtemp(prefix="foreshock-check-test-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # also when a check fails (sys.exit)
state = os.path.join(tmp, "state")
os.makedirs(state)
config = os.path.join(tmp, "foreshock.yml")
with open(config, "w") as f:
    f.write(f"state:\n  directory: {state}\n")


def check_cmd(*args):
    return [BIN, "--config", config, "check"] + list(args)


def scrape_from_row(row, ts_ms):
    lines = ["# TYPE foreshock_disk_smart_healthy gauge",
             f'foreshock_disk_smart_healthy{{device="sdb",serial="{row["serial_number"]}",model="{row["model"]}"}} 1 {ts_ms}',
             "# TYPE foreshock_disk_ata_attribute_raw gauge"]
    for a in ["5", "9", "187", "188", "194", "197", "198"]:
        v = row[f"smart_{a}_raw"]
        if v == "":
            continue
        lines.append(f'foreshock_disk_ata_attribute_raw{{device="sdb",serial="{row["serial_number"]}",'
                     f'model="{row["model"]}",id="{a}",name="attr{a}"}} {float(v)} {ts_ms}')
    return "\n".join(lines) + "\n"


# 1. A replayed failing disk: exit 2, names the disk and the counter.
rows = [r for r in csv.DictReader(open(FAILED_CSV)) if r["serial_number"] == SERIAL]
rows.sort(key=lambda r: r["date"])
check(len(rows) >= 8 and rows[-1]["failure"] == "1", f"{SERIAL} not found as a failed drive in {FAILED_CSV}")
files = []
import datetime as dt  # noqa: E402
for r in rows[-8:]:
    ts = int(dt.datetime.fromisoformat(r["date"] + "T12:00:00+00:00").timestamp() * 1000)
    path = os.path.join(tmp, f"scrape-{r['date']}.prom")
    with open(path, "w") as f:
        f.write(scrape_from_row(r, ts))
    files.append(path)
args = []
for p in files:
    args += ["--from-metrics", p]
p = run(check_cmd(*args), check_rc=False)
check(p.returncode == 2, f"failing disk: expected exit 2, got {p.returncode}\n{p.stdout}{p.stderr}")
check("sdb" in p.stdout and SERIAL in p.stdout, f"report does not name the disk:\n{p.stdout}")
check("pending sectors (SMART 197)" in p.stdout and "pending_sectors" in p.stdout,
      f"report does not name the counter:\n{p.stdout}")
check("action:" in p.stdout and "replace" in p.stdout, f"report lacks the action:\n{p.stdout}")
check("\033[" not in p.stdout, "colour codes written although stdout is not a TTY")
first_line = p.stdout.splitlines()[0]
check(first_line.endswith("CRITICAL"), f"verdict line: {first_line!r}")

pj = run(check_cmd("--format", "json", *args), check_rc=False)
check(pj.returncode == 2, f"json: expected exit 2, got {pj.returncode}")
report = json.loads(pj.stdout)
jsonschema.validate(report, schema)
disks = [c for cat in report["categories"] if cat["name"] == "disks" for c in cat["components"]]
check(disks and disks[0]["status"] == "critical", f"json disk status: {disks}")
pending = [c for c in disks[0]["checks"] if c["check"] == "pending_sectors"][0]
check(pending["severity"] == "critical" and pending["evidence"]["increase_7d"] > 0, f"json pending: {pending}")

# 1b. The same disk disappears: it stays critical, its last problems stay, and it is gone.
last_ts = int(dt.datetime.fromisoformat(rows[-1]["date"] + "T12:00:00+00:00").timestamp() * 1000)
gone = os.path.join(tmp, "scrape-gone.prom")
labels = f'device="sdb",serial="{SERIAL}",model="{rows[-1]["model"]}"'
with open(gone, "w") as f:
    f.write("# TYPE foreshock_disk_info gauge\n"
            f'foreshock_disk_info{{{labels},firmware="",wwn="",transport="ata",backend="ata",'
            f'protocol="",rotational="1"}} 1 {last_ts + 3600_000}\n'
            "# TYPE foreshock_disk_up gauge\n"
            f'foreshock_disk_up{{{labels},reason="gone"}} 0 {last_ts + 3600_000}\n')
p = run(check_cmd(*args, "--from-metrics", gone), check_rc=False)
check(p.returncode == 2, f"gone disk: expected exit 2 (it was critical), got {p.returncode}\n{p.stdout}")
check("disk_present" in p.stdout and "disappeared" in p.stdout, f"gone not reported:\n{p.stdout}")
check("before it disappeared: pending sectors (SMART 197)" in p.stdout,
      f"the gone disk lost its last problems:\n{p.stdout}")

# 1c. A virtio disk (tests/fixtures/data/smart/live-virtio: this project's VM, captured with the
# smart collector) has no SMART by design: INFO, not a warning, and out of the verdict.
virtio = os.path.join(TEST_DATA, "smart", "live-virtio", "collect-smart-vda.prom")
p = run(check_cmd("--from-metrics", virtio), check_rc=False)
check(p.returncode == 0, f"virtio disk: expected exit 0, got {p.returncode}\n{p.stdout}{p.stderr}")
check("INFO      vda: no SMART (virtual disk)" in p.stdout, f"virtio disk line:\n{p.stdout}")
check("WARNING" not in p.stdout and "smart_readable" not in p.stdout,
      f"virtio disk reported as a warning:\n{p.stdout}")
pj = run(check_cmd("--format", "json", "--from-metrics", virtio), check_rc=False)
report = json.loads(pj.stdout)
jsonschema.validate(report, schema)
vda = [c for cat in report["categories"] for c in cat["components"] if c["component"] == "disk/vda"]
check(vda and vda[0]["status"] == "info" and report["status"] == "ok", f"json virtio: {vda} {report['status']}")

# 2. A clean host: exit 0 and every section.
clean = os.path.join(tmp, "clean.prom")
with open(clean, "w") as f:
    f.write("""# TYPE foreshock_disk_smart_healthy gauge
foreshock_disk_smart_healthy{device="nvme0n1",serial="S1",model="Samsung SSD 980"} 1
# TYPE foreshock_disk_nvme_available_spare_ratio gauge
foreshock_disk_nvme_available_spare_ratio{device="nvme0n1",serial="S1",model="Samsung SSD 980"} 1
# TYPE foreshock_disk_nvme_available_spare_threshold_ratio gauge
foreshock_disk_nvme_available_spare_threshold_ratio{device="nvme0n1",serial="S1",model="Samsung SSD 980"} 0.1
# TYPE foreshock_disk_nvme_percentage_used_ratio gauge
foreshock_disk_nvme_percentage_used_ratio{device="nvme0n1",serial="S1",model="Samsung SSD 980"} 0.03
# TYPE foreshock_disk_media_errors_total counter
foreshock_disk_media_errors_total{device="nvme0n1",serial="S1",model="Samsung SSD 980"} 0
# TYPE foreshock_sensor_temperature_celsius gauge
foreshock_sensor_temperature_celsius{chip="coretemp-isa-0000",sensor="Package id 0"} 41
# TYPE foreshock_sensor_temperature_max_celsius gauge
foreshock_sensor_temperature_max_celsius{chip="coretemp-isa-0000",sensor="Package id 0"} 80
# TYPE foreshock_sensor_temperature_crit_celsius gauge
foreshock_sensor_temperature_crit_celsius{chip="coretemp-isa-0000",sensor="Package id 0"} 100
# TYPE foreshock_network_errors_total counter
foreshock_network_errors_total{interface="eth0",class="physical",direction="receive"} 0
foreshock_network_errors_total{interface="eth0",class="host",direction="receive"} 0
# TYPE foreshock_network_carrier gauge
foreshock_network_carrier{interface="eth0"} 1
# TYPE foreshock_network_link_flaps_total counter
foreshock_network_link_flaps_total{interface="eth0"} 0
# TYPE foreshock_probe_loss_ratio gauge
foreshock_probe_loss_ratio{target="192.0.2.1",name="gateway",probe="icmp",interface="eth0",window="5m"} 0
foreshock_probe_loss_ratio{target="192.0.2.1",name="gateway",probe="icmp",interface="eth0",window="1m"} 0
# TYPE foreshock_probe_up gauge
foreshock_probe_up{target="192.0.2.1",name="gateway",probe="icmp",interface="eth0"} 1
# TYPE foreshock_kernel_source_up gauge
foreshock_kernel_source_up{source="kmsg",reason=""} 1
# TYPE foreshock_kernel_block_io_errors_total counter
foreshock_kernel_block_io_errors_total{device="nvme0n1"} 0
# TYPE foreshock_edac_correctable_errors_total counter
foreshock_edac_correctable_errors_total{controller="mc0"} 0
""")
p = run(check_cmd("--from-metrics", clean), check_rc=False)
check(p.returncode == 0, f"clean host: expected exit 0, got {p.returncode}\n{p.stdout}{p.stderr}")
for section in ["Disks", "Temperatures", "Network", "Upstream", "Kernel-reported hardware errors"]:
    check(f"\n{section}\n" in p.stdout, f"section {section} missing:\n{p.stdout}")
check("(no data)" not in p.stdout, f"a section had no data:\n{p.stdout}")
pj = run(check_cmd("--format", "json", "--from-metrics", clean), check_rc=False)
check(pj.returncode == 0, f"clean json exit {pj.returncode}")
jsonschema.validate(json.loads(pj.stdout), schema)

# 2b. Kernel-reported errors (the kernel collector's series): a disk returning I/O errors and a
# degraded md array are critical and named, with the action.
kernel_bad = os.path.join(tmp, "kernel-bad.prom")
with open(kernel_bad, "w") as f:
    f.write("""# TYPE foreshock_kernel_block_io_errors_total counter
foreshock_kernel_block_io_errors_total{device="vdb"} 3
# TYPE foreshock_md_degraded gauge
foreshock_md_degraded{array="md0"} 1
""")
p = run(check_cmd("--from-metrics", kernel_bad), check_rc=False)
check(p.returncode == 2, f"kernel errors: expected exit 2, got {p.returncode}\n{p.stdout}{p.stderr}")
check("disk returning I/O errors" in p.stdout and "vdb" in p.stdout,
      f"report does not name the disk returning I/O errors:\n{p.stdout}")
check("md array md0" in p.stdout and "array degraded" in p.stdout,
      f"report does not name the degraded array:\n{p.stdout}")
pj = run(check_cmd("--format", "json", "--from-metrics", kernel_bad), check_rc=False)
jsonschema.validate(json.loads(pj.stdout), schema)

# 3. A corrupt history file is reported and the check still answers.
with open(os.path.join(state, "history.bin"), "wb") as f:
    f.write(b"FSHIST\n\x00garbage that is not a history")
p = run(check_cmd("--from-metrics", clean), check_rc=False)
check(p.returncode == 0, f"corrupt history changed the verdict: {p.returncode}\n{p.stdout}{p.stderr}")
check("unreadable" in p.stdout and "history.bin" in p.stdout, f"corrupt history not reported:\n{p.stdout}")

# 4. A malformed exposition: exit 3 naming the file and line.
bad = os.path.join(tmp, "bad.prom")
with open(bad, "w") as f:
    f.write("foreshock_disk_up{device=\"sda\"} 1\nforeshock_disk_up{device=\"sdb} 1\n")
p = run(check_cmd("--from-metrics", bad), check_rc=False)
check(p.returncode == 3, f"malformed exposition: expected 3, got {p.returncode}")
check("bad.prom" in p.stderr and "line 2" in p.stderr, f"error does not name file and line: {p.stderr!r}")

# 5. No data at all is UNKNOWN, not OK.
empty = os.path.join(tmp, "empty.prom")
open(empty, "w").close()
p = run(check_cmd("--from-metrics", empty), check_rc=False)
check(p.returncode == 3, f"no data: expected 3, got {p.returncode}")

# 6. A FIFO given as input (nobody writes it) is refused at once, naming it: not a hang.
fifo = os.path.join(tmp, "never.prom")
os.mkfifo(fifo)
p = subprocess.run(check_cmd("--from-metrics", fifo), capture_output=True, text=True, timeout=20)
check(p.returncode == 3 and f"{fifo}: not a regular file (a FIFO)" in p.stderr,
      f"a FIFO input: expected exit 3 naming it, got {p.returncode}\n{p.stderr}")

# 7. --timeout bounds the whole run: a disk whose smartctl never answers (a stub that sleeps,
# like a hung device) holds the collection past the bound; UNKNOWN and exit 3 at the bound.
stub = os.path.join(tmp, "smartctl")
pids = os.path.join(tmp, "smartctl.pids")
with open(stub, "w") as f:
    f.write(f"#!/bin/sh\necho $$ >> {pids}\nexec sleep 30\n")
os.chmod(stub, 0o755)
hung_config = os.path.join(tmp, "hung.yml")
with open(hung_config, "w") as f:
    f.write(f"""state:
  directory: {state}
collectors:
{collectors_off("netdev", "sensors", "probe", "lldp")}  smart:
    smartctl_path: {stub}
    include: "^sdz$"
    timeout: 120s
    read_timeout: 100s
    smartctl_timeout: 90s
    devices:
      - {{device: sdz, backend: smartctl, node: /dev/null}}
""")
start = time.monotonic()
try:
    p = subprocess.run([BIN, "--config", hung_config, "check", "--timeout", "2"],
                       capture_output=True, text=True, timeout=20)
except subprocess.TimeoutExpired:
    check(False, "check --timeout 2 was still running after 20 s")
finally:
    time.sleep(0.2)
    for pid in (open(pids).read().split() if os.path.exists(pids) else []):
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
took = time.monotonic() - start
check(os.path.exists(pids), "the stub smartctl never ran: the hang was not reproduced")
check(p.returncode == 3, f"timed-out check: expected exit 3, got {p.returncode}\n{p.stdout}{p.stderr}")
check(p.stdout.startswith("UNKNOWN: foreshock check did not finish within 2 seconds"),
      f"timed-out check output: {p.stdout!r}")
check(1.8 <= took < 6, f"check --timeout 2 returned after {took:.1f} s")
# A live check logs only warnings and errors on stderr by default, whatever the config's
# log.level (meant for the agent's journal); --log.level info on the command line shows more.
# The probe collector logs one info line when it opens its ICMP socket for a target.
quiet_cfg = os.path.join(tmp, "quiet.yml")
with open(quiet_cfg, "w") as f:
    f.write("log:\n  level: debug\ncollectors:\n  smart:\n    enabled: false\n  kernel:\n"
            "    enabled: false\n  probe:\n    targets:\n      - address: 127.0.0.1\n"
            "        name: loopback\n")
p = run([BIN, "--config", quiet_cfg, "check"], check_rc=False)
check(p.returncode in (0, 1), f"live check exit {p.returncode}: {p.stderr}")
chatty = [l for l in p.stderr.splitlines() if "level=info" in l or "level=debug" in l]
check(not chatty, f"check printed info/debug lines on stderr by default: {chatty}")
p = run([BIN, "--config", quiet_cfg, "--log.level", "info", "check"], check_rc=False)
check("level=info component=probe" in p.stderr,
      f"--log.level info did not show the probe's info line: {p.stderr!r}")
print("ok")
