"""The generated systemd unit (build/packaging/foreshock.service): systemd-analyze verify prints
nothing, the offline security exposure is at most 3.0 (the score is printed and written to
build/packaging/security-exposure.txt), the unit carries the settings the service depends on,
and the sysusers.d file creates the user the unit runs as.

systemd is not PID 1 in CI; `verify` and `security --offline` work on unit files. verify checks
that ExecStart is executable and that the Documentation= man pages exist, so the check runs on
a copy whose ExecStart names the built binary (every other byte is the generated unit) with
MANPATH pointing at the man pages rendered in the build tree."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, SOURCE_DIR, check, fail, require_tool, run  # noqa: E402

BUILD = os.environ.get("FORESHOCK_BUILD_DIR") or fail("FORESHOCK_BUILD_DIR is not set")
ANALYZE = require_tool("systemd-analyze")
SYSUSERS = require_tool("systemd-sysusers")
MAX_EXPOSURE = 3.0


def parse_unit(text):
    """{(section, key): [values]} of a unit file."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        out.setdefault((section, k), []).append(v)
    return out


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    fail(f"{name} not in CMakeCache.txt")


def main():
    unit_path = os.path.join(BUILD, "packaging", "foreshock.service")
    with open(unit_path) as f:
        text = f.read()
    check(not re.search(r"@[A-Z_]+@", text), "unsubstituted @VAR@ left in the generated unit")
    u = parse_unit(text)

    # ExecStart names the installed binary under the configured prefix.
    prefix = cache_value("CMAKE_INSTALL_PREFIX")
    sbindir = cache_value("CMAKE_INSTALL_SBINDIR")
    sbin = sbindir if sbindir.startswith("/") else os.path.join(prefix, sbindir)
    exec_start = u[("Service", "ExecStart")][0]
    check(exec_start.startswith(f"{sbin}/foreshock --config ") and exec_start.endswith(" serve $FORESHOCK_ARGS"),
          f"ExecStart does not run {sbin}/foreshock serve with the config: {exec_start}")

    want = {
        ("Service", "Type"): "notify",
        ("Service", "Restart"): "on-failure",
        ("Service", "User"): "foreshock",
        ("Service", "SupplementaryGroups"): "disk",
        ("Service", "StateDirectory"): "foreshock",
        ("Service", "ProtectSystem"): "strict",
        ("Service", "ProtectHome"): "yes",
        ("Service", "PrivateTmp"): "yes",
        ("Service", "NoNewPrivileges"): "yes",
        ("Service", "EnvironmentFile"): "-/etc/default/foreshock",
        ("Service", "RestrictAddressFamilies"): "AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET",
        ("Install", "WantedBy"): "multi-user.target",
    }
    for key, val in want.items():
        check(u.get(key) == [val], f"{key[0]}.{key[1]} is {u.get(key)}, expected {val}")
    caps = {"CAP_SYS_RAWIO", "CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_SYSLOG"}
    for key in ("AmbientCapabilities", "CapabilityBoundingSet"):
        got = set(" ".join(u.get(("Service", key), [])).split())
        check(got == caps, f"{key} is {got}, expected exactly {caps}")
    check(u.get(("Service", "WatchdogSec")), "no WatchdogSec")
    check("@system-service" in " ".join(u.get(("Service", "SystemCallFilter"), [])), "no @system-service filter")
    check(any("-HUP" in v for v in u.get(("Service", "ExecReload"), [])), "ExecReload does not send SIGHUP")

    with tempfile.TemporaryDirectory(prefix="fspk-unit-") as d:
        copy = os.path.join(d, "foreshock.service")
        with open(copy, "w") as f:
            f.write(text.replace(f"{sbin}/foreshock", os.path.abspath(BIN)))
        env = dict(os.environ, MANPATH=os.path.join(BUILD, "man"))
        p = subprocess.run([ANALYZE, "verify", copy], capture_output=True, text=True, env=env)
        check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
              f"systemd-analyze verify is not clean (rc {p.returncode}):\n{p.stdout}{p.stderr}")

        p = run([ANALYZE, "security", "--offline=true", copy])
        m = re.search(r"Overall exposure level for foreshock.service: (\d+\.\d+)", p.stdout)
        check(m, f"no exposure level in:\n{p.stdout[-2000:]}")
        score = float(m.group(1))
        print(f"systemd-analyze security exposure: {score}")
        with open(os.path.join(BUILD, "packaging", "security-exposure.txt"), "w") as f:
            f.write(f"{score}\n")
        check(score <= MAX_EXPOSURE, f"exposure {score} above {MAX_EXPOSURE}:\n{p.stdout}")

        # The sysusers.d entry creates the user and group the unit runs as.
        root = os.path.join(d, "root")
        os.makedirs(os.path.join(root, "etc"))
        p = run([SYSUSERS, f"--root={root}", "--dry-run",
                 os.path.join(SOURCE_DIR, "packaging", "systemd", "foreshock.sysusers")])
        out = p.stdout + p.stderr
        check("Creating group 'foreshock'" in out and "Creating user 'foreshock'" in out,
              f"sysusers does not create user and group foreshock:\n{out}")
    print("ok")


if __name__ == "__main__":
    main()
