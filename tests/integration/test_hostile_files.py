"""Hostile files (issue 13): every file the agent reads is either read whole within its cap or
rejected with an error naming the file and the cap; FIFOs and devices never block it; auth
never fails open; broken values in configs are errors naming file, line and key; history saves
survive SIGKILL at any moment; `replay` rejects bad lines with file:line in bounded memory.

Each case is a reproducer from the issue, run against the real binary:
  1. a web config over its 1 MiB cap: --check-config invalid naming file and cap; `serve`
     refuses to start; on SIGHUP the old settings (basic auth) stay in force;
  2. a main config over 4 MiB with a bad key past the cap: invalid, naming the cap;
  3. a `check --from-metrics` file over 64 MiB: an error naming the cap (not a parse error);
  4. FIFOs under --path.sysfs: `collect` finishes, `serve` exits within ~1 s of SIGTERM;
  5. a FIFO, then a 2 GiB file, as history.bin: `serve` starts listening at once, says why the
     history was rejected and runs with an empty one;
  6. temp files of interrupted saves are removed at start (only ours);
  7. SIGKILL at random moments while saving every second, N times: the history is always a
     complete file, no temp file piles up;
  8. nan/inf, broken bcrypt hashes, duplicate keys and the web-config error count;
  9. replay: a non-numeric failure value and a 200 MB line (gzip) are rejected with
     file:line in bounded memory.
"""
import glob
import gzip
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, Agent, check, collectors_off, fail, require_tool, run, wait_for  # noqa: E402

HTPASSWD = require_tool("htpasswd")
tmp = tempfile.mkdtemp(prefix="foreshock-hostile-files-")
MiB = 1 << 20


def path(*parts):
    return os.path.join(tmp, *parts)


def write(name, text):
    p = path(name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    return p


def bcrypt(user, password):
    return run([HTPASSWD, "-nbBC", "5", user, password]).stdout.strip().split(":", 1)[1]


def config(name, state_dir, extra=""):
    """Only the self and netdev collectors (no hardware needed: netdev sees the namespace's
    loopback, one history entity), collected, recorded and saved every second."""
    return write(name, f"""collectors:
  self: {{enabled: true, interval: 1s, timeout: 1s}}
  netdev: {{enabled: true, interval: 1s, timeout: 1s, kinds: [loopback]}}
{collectors_off("sensors", "smart", "probe", "lldp")}state:
  directory: {state_dir}
  save_interval: 1s
health:
  record_interval: 1s
{extra}""")


def status_of(agent, auth=None):
    headers = {}
    if auth:
        import base64
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    try:
        return agent.get("/metrics", headers=headers)[0]
    except urllib.error.HTTPError as e:
        return e.code


def oversized_web_config(auth_lines):
    # The auth section first, then comments past the cap: a truncated read would see a valid
    # file; the bad key at the end would be missed too.
    pad = "# " + "x" * 1000 + "\n"
    return auth_lines + pad * (MiB // len(pad) + 1) + "no_such_key: 1\n"


def case_oversized_web_config():
    users = "basic_auth_users:\n  alice: " + bcrypt("alice", "s3cret") + "\n"
    big = write("web-big.yml", oversized_web_config(users))
    cfg = config("web-big-main.yml", path("state-web"))
    p = run([BIN, "--config", cfg, "--web.config.file", big, "--check-config"], check_rc=False)
    check(p.returncode == 1, f"--check-config on an oversized web config exits 1, got {p.returncode}:\n{p.stdout}{p.stderr}")
    check(f"{big}: file is 1.0 MiB" in p.stderr and "over the 1 MiB limit" in p.stderr,
          f"the error names the file and the 1 MiB cap:\n{p.stderr}")
    check("configuration invalid: 1 error(s)" in p.stderr, p.stderr)
    print("oversized web config:", p.stderr.strip().splitlines()[0])

    # At start: a fatal configuration error, never plain HTTP without the configured auth.
    p = subprocess.run([BIN, "serve", "--config", cfg, "--web.config.file", big,
                        "--web.listen-address", "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
    check(p.returncode != 0, "serve with an oversized web config must not start")
    check("over the 1 MiB limit" in p.stderr and "listening on" not in p.stderr, p.stderr)

    # On SIGHUP: the running auth stays.
    web = write("web.yml", users)
    with Agent(["serve", "--config", cfg, "--web.config.file", web,
                "--web.listen-address", "127.0.0.1:0"]) as a:
        check(status_of(a) == 401 and status_of(a, "alice:s3cret") == 200, "auth before the reload")
        shutil.copy(big, web)
        a.signal(signal.SIGHUP)
        wait_for(lambda: "over the 1 MiB limit" in a.output(), what="the reload to be rejected")
        check("new configuration rejected" in a.output(), a.output())
        check(status_of(a) == 401, "after a rejected oversized web config, /metrics still needs auth")
        check(status_of(a, "alice:s3cret") == 200, "the old credentials still work")


def case_oversized_main_config():
    pad = "# " + "y" * 1000 + "\n"
    text = "log:\n  level: info\n" + pad * (4 * MiB // len(pad) + 1) + "bogus_key: 1\n"
    cfg = write("big-main.yml", text)
    p = run([BIN, "--config", cfg, "--check-config"], check_rc=False)
    check(p.returncode == 1, f"a 4 MiB+ config is invalid, got {p.returncode}: {p.stdout}")
    check(f"{cfg}: file is 4.0 MiB" in p.stderr and "over the 4 MiB limit" in p.stderr, p.stderr)
    print("oversized main config:", p.stderr.strip().splitlines()[0])


def case_oversized_from_metrics():
    big = path("scrape.prom")
    with open(big, "w") as f:
        f.write("# HELP x y\n# TYPE x gauge\nx 1\n")
        f.truncate(65 * MiB)  # sparse: the size alone must reject it
    cfg = config("check-main.yml", path("state-check"))
    p = run([BIN, "--config", cfg, "check", "--from-metrics", big], check_rc=False)
    check(p.returncode == 3, f"check exits 3 (UNKNOWN) on an oversized input, got {p.returncode}")
    check(f"{big}: file is 65 MiB" in p.stderr and "over the 64 MiB limit" in p.stderr,
          f"the error names the cap, not a parse error:\n{p.stderr}")
    fifo = path("scrape.fifo")
    os.mkfifo(fifo)
    p = run([BIN, "--config", cfg, "check", "--from-metrics", fifo], check_rc=False, timeout=20)
    check(p.returncode == 3 and "not a regular file (a FIFO)" in p.stderr, p.stderr)


def fifo_sysfs():
    """A sysfs tree whose attributes the collectors read are FIFOs nobody writes to."""
    root = path("sysfs")
    for d in ["class/net/eth0", "class/thermal/thermal_zone0", "block/sda/device"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for f in ["class/net/eth0/type", "class/net/eth0/operstate", "class/net/eth0/address",
              "class/thermal/thermal_zone0/type", "class/thermal/thermal_zone0/temp",
              "block/sda/device/vpd_pg80", "block/sda/size", "block/sda/removable"]:
        os.mkfifo(os.path.join(root, f))
    return root


def case_fifos_under_sysfs():
    root = fifo_sysfs()
    cfg = write("fifo-main.yml", f"""collectors:
  lldp: {{enabled: true}}
  sensors: {{enabled: true, thermal_zones: true}}
state:
  directory: {path('state-fifo')}
""")
    t0 = time.monotonic()
    p = subprocess.run([BIN, "--config", cfg, "--path.sysfs", root, "collect"],
                       capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    check(p.returncode == 0, f"collect with FIFOs under sysfs exits 0, got {p.returncode}:\n{p.stderr}")
    check(took < 30, f"collect took {took:.1f}s")
    print(f"collect with FIFOs under --path.sysfs: {took:.2f}s")
    with Agent(["serve", "--config", cfg, "--path.sysfs", root,
                "--web.listen-address", "127.0.0.1:0"]) as a:
        wait_for(lambda: "foreshock_collector_success" in a.metrics(), what="a first snapshot")
        t0 = time.monotonic()
        a.signal(signal.SIGTERM)
        try:
            rc = a.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            fail("serve ignored SIGTERM with FIFOs under --path.sysfs")
        took = time.monotonic() - t0
        check(rc == 0, f"serve exits 0 on SIGTERM, got {rc}:\n{a.output()}")
        check(took < 1.5, f"serve took {took:.2f}s to exit after SIGTERM")
        print(f"serve with FIFOs under --path.sysfs: exit {took:.2f}s after SIGTERM")


def history_rejected_case(name, make):
    state = path("state-" + name)
    os.makedirs(state)
    hist = os.path.join(state, "history.bin")
    make(hist)
    cfg = config(name + ".yml", state)
    t0 = time.monotonic()
    with Agent(["serve", "--config", cfg, "--web.listen-address", "127.0.0.1:0"]) as a:
        took = time.monotonic() - t0
        check(took < 5, f"listening took {took:.1f}s")
        out = a.output()
        check("history file rejected" in out and "starting with an empty history" in out, out)
        m = wait_for(lambda: "foreshock_health_history_load_rejected 1" in a.metrics() and a.metrics(),
                     what="the rejection in /metrics")
        check("foreshock_health_history_load_rejected 1" in m, m)
        line = [l for l in out.splitlines() if "history file rejected" in l][0]
    return line


def case_history_fifo_and_huge():
    line = history_rejected_case("hist-fifo", os.mkfifo)
    check("not a regular file (a FIFO)" in line, line)
    print("FIFO history:", line)

    def huge(p):
        with open(p, "wb") as f:
            f.truncate(2 << 30)  # 2 GiB, sparse
    line = history_rejected_case("hist-huge", huge)
    check("file is 2 GiB (2147483648 bytes), over the 512 MiB limit" in line, line)
    print("2 GiB history:", line)


def temp_files(state):
    return sorted(glob.glob(os.path.join(state, ".history.bin.??????")))


def case_stale_temp_files_removed():
    state = path("state-temp")
    os.makedirs(state)
    ours = [os.path.join(state, ".history.bin." + s) for s in ("Ab3xYz", "000000")]
    others = [os.path.join(state, n) for n in (".history.bin.Ab3xY", "notes.txt", ".other.bin.Ab3xYz")]
    for p in ours + others:
        with open(p, "w") as f:
            f.write("partial")
    cfg = config("temp.yml", state)
    with Agent(["serve", "--config", cfg, "--web.listen-address", "127.0.0.1:0"]) as a:
        wait_for(lambda: "temporary file(s) left by interrupted history saves" in a.output(),
                 what="the clean-up to be logged")
        check(not any(os.path.exists(p) for p in ours), "our stale temp files are removed")
        check(all(os.path.exists(p) for p in others), "nothing else in the state directory is touched")
        print("stale temp files:", [l for l in a.output().splitlines() if "interrupted history saves" in l][0])


def history_valid(cfg, hist):
    """`check` reads the history read-only and says whether it parsed."""
    p = run([BIN, "--config", cfg, "check", "--format", "json"], check_rc=False, timeout=60)
    if f"history loaded from {hist}" in p.stdout:
        return True
    fail(f"history at {hist} is not a complete file after SIGKILL:\n{p.stdout}\n{p.stderr}")


def case_sigkill_during_saves(rounds=12):
    state = path("state-kill")
    hist = os.path.join(state, "history.bin")
    cfg = config("kill.yml", state)
    rng = random.Random(13)
    temps_seen = versions = 0
    last = None
    for i in range(rounds):
        a = Agent(["serve", "--config", cfg, "--web.listen-address", "127.0.0.1:0"])
        try:
            out_before = a.output()
            check(".corrupt-" not in out_before, f"round {i}: the history was moved aside:\n{out_before}")
            wait_for(lambda: os.path.exists(hist), timeout=15, what="a first save")
            time.sleep(rng.uniform(0.8, 3.0))  # past the first 1 s save, at a random phase
            temps_seen += len(temp_files(state))
            a.proc.kill()
            a.proc.wait()
            temps_seen += len(temp_files(state))
        finally:
            a.stop()
        with open(hist, "rb") as f:
            data = f.read()
        if data != last:
            versions += 1
            last = data
        history_valid(cfg, hist)
        check(not glob.glob(os.path.join(state, "history.bin.corrupt-*")), "no corrupt history after a kill")
        check(len(temp_files(state)) <= 1, f"round {i}: temp files pile up: {temp_files(state)}")
    # Restart once more: whatever a kill left is cleaned up.
    with Agent(["serve", "--config", cfg, "--web.listen-address", "127.0.0.1:0"]) as a:
        wait_for(lambda: "history loaded from" in a.output(), what="the history to load")
        check(not temp_files(state), f"temp files left after a clean start: {temp_files(state)}")
        check("history file rejected" not in a.output(), a.output())
    check(versions >= rounds // 2, f"only {versions} history versions in {rounds} rounds: saves are not running")
    print(f"SIGKILL during saves: {rounds} kills, {versions} distinct history versions, every one "
          f"complete; temp files seen at kill time: {temps_seen}, none left")


def case_config_values():
    state = path("state-values")
    for v in ("nan", "NaN", "inf", "-inf"):
        cfg = config(f"nan-{v}.yml", state, f"  disk_risk_warning: {v}\n")
        p = run([BIN, "--config", cfg, "--check-config"], check_rc=False)
        check(p.returncode == 1 and f"health.disk_risk_warning: expected a finite number, got \"{v}\"" in p.stderr,
              f"{v}: {p.stderr}")
    p = run([BIN, "replay", "--risk-threshold", "nan", "--backblaze", "/dev/null"], check_rc=False)
    check(p.returncode != 0 and "finite" in p.stderr, f"--risk-threshold nan: {p.stderr}")

    cfg = write("dup.yml", "log:\n  level: info\n  level: debug\n")
    p = run([BIN, "--config", cfg, "--check-config"], check_rc=False)
    check(p.returncode == 1 and f"{cfg}:3: log.level: duplicate key (first on line 2)" in p.stderr, p.stderr)

    good = bcrypt("alice", "s3cret")
    # Four problems: a truncated hash, a cost out of range, a duplicated user, an unknown key.
    web = write("web-errors.yml", f"""basic_auth_users:
  alice: "{good[:-1]}"
  bob: "$2y$99${good[7:]}"
  carol: "{good}"
  carol: "{good}"
colour: red
""")
    p = run([BIN, "--web.config.file", web, "--check-config"], check_rc=False)
    lines = [l for l in p.stderr.splitlines() if l.startswith("web.config_file: ")]
    check(p.returncode == 1 and "configuration invalid: 4 error(s)" in p.stderr and len(lines) == 4,
          f"four problems, four errors:\n{p.stderr}")
    check(f"{web}:2: basic_auth_users.alice: bcrypt hash is 59 characters long" in p.stderr, p.stderr)
    check(f"{web}:3: basic_auth_users.bob: bcrypt cost 99 is out of range (04 to 31)" in p.stderr, p.stderr)
    check(f"{web}:5: basic_auth_users.carol: duplicate key (first on line 4)" in p.stderr, p.stderr)
    check(f"{web}:6: colour: unknown key" in p.stderr, p.stderr)


def case_replay():
    header = "date,serial_number,model,capacity_bytes,failure,smart_5_raw\n"
    bad = write("bb-bad.csv", header +
                "2018-01-01,Z1,ST4000DM000,4000787030016,0,0\n"
                "2018-01-02,Z1,ST4000DM000,4000787030016,yes,0\n"
                "2018-01-03,Z1,ST4000DM000,4000787030016,,0\n"
                "2018-01-04,Z1,ST4000DM000,4000787030016,1,8\n")
    p = run([BIN, "replay", "--backblaze", bad])
    check(f"{bad}:3: skipped: failure is \"yes\", expected 0 or 1" in p.stderr, p.stderr)
    check(f"{bad}:4: skipped: failure is \"\", expected 0 or 1" in p.stderr, p.stderr)
    check("skipped 2 malformed line(s)" in p.stderr, p.stderr)
    check(p.stdout.splitlines()[1].startswith("Z1,1,2018-01-04"), p.stdout)

    # A 200 MB line, gzip-compressed to a few hundred KB.
    long = path("bb-long.csv.gz")
    with gzip.open(long, "wb", compresslevel=1) as f:
        f.write(header.encode())
        f.write(b"2018-01-01,Z2,ST4000DM000,1,0,0\n")
        chunk = b"x" * MiB
        for _ in range(200):
            f.write(chunk)
        f.write(b"\n2018-01-02,Z2,ST4000DM000,1,0,0\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = run([BIN, "replay", "--backblaze", long])
    took = time.monotonic() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    check(f"{long}:3: skipped: line longer than 64 KiB" in p.stderr, p.stderr)
    check(p.stdout.splitlines()[1].startswith("Z2,0,2018-01-02"), p.stdout)
    check(rss_kb < 64 * 1024, f"replay of a 200 MB line peaked at {rss_kb} KiB RSS (before: {before})")
    print(f"replay with a 200 MB line: {took:.2f}s, peak RSS {rss_kb / 1024:.1f} MiB")


def main():
    try:
        case_oversized_web_config()
        case_oversized_main_config()
        case_oversized_from_metrics()
        case_fifos_under_sysfs()
        case_history_fifo_and_huge()
        case_stale_temp_files_removed()
        case_config_values()
        case_replay()
        case_sigkill_during_saves()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_hostile_files: all cases passed")


main()
