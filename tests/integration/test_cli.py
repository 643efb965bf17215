"""The command line as a user meets it: --help everywhere, version, list-collectors,
--check-config exit codes and messages, collector flags, collect --output (atomic)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, check, parse_metrics, promtool_check, run, value  # noqa: E402

SUBCOMMANDS = ["serve", "collect", "check", "list-collectors", "version", "config-reference"]


def main():
    top = run([BIN, "--help"]).stdout
    for sub in SUBCOMMANDS:
        check(sub in top, f"--help lists {sub}")
        h = run([BIN, sub, "--help"]).stdout
        check("Usage:" in h, f"{sub} --help prints usage")
    for flag in ["--config", "--check-config", "--web.listen-address", "--path.sysfs", "--path.procfs",
                 "--path.devfs", "--path.rootfs", "--log.level", "--collector.self", "--no-collector.self"]:
        check(flag in top, f"--help documents {flag}")

    check(run([BIN, "version"]).stdout.startswith("foreshock "), "version output")
    listing = run([BIN, "list-collectors"]).stdout
    check("self" in listing and "enabled" in listing, "list-collectors shows self and its default")

    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, "good.yml")
        with open(good, "w") as f:
            f.write("collectors:\n  self:\n    interval: 30s\n")
        p = run([BIN, "--config", good, "--check-config"])
        check(p.stdout.strip() == f"configuration valid: {good}", p.stdout)

        bad = os.path.join(d, "bad.yml")
        with open(bad, "w") as f:
            f.write("collectors:\n  self:\n    interval: fast\n    colour: red\nweb:\n  max_connections: 0\n")
        p = run([BIN, "--config", bad, "--check-config"], check_rc=False)
        check(p.returncode == 1, f"--check-config on a bad file exits 1, got {p.returncode}")
        lines = p.stderr.strip().splitlines()
        check(lines == [
            f'{bad}:3: collectors.self.interval: expected a duration such as 500ms, 30s, 5m or 1h, got "fast"',
            f"{bad}:4: collectors.self.colour: unknown key (known keys: enabled, interval, timeout)",
            f"{bad}:6: web.max_connections: 0 is out of range (minimum 1, maximum 100000)",
            "configuration invalid: 3 error(s)"], "every error listed:\n" + p.stderr)

        p = run([BIN, "--config", os.path.join(d, "missing.yml"), "serve"], check_rc=False)
        check(p.returncode == 1 and "missing.yml: No such file or directory" in p.stderr,
              "serve with a missing config fails naming the file: " + p.stderr)
        p = run([BIN, "--web.listen-address=localhost", "--check-config"], check_rc=False)
        check(p.returncode == 1 and 'listen address "localhost"' in p.stderr, p.stderr)

        # Collector flags override the config.
        out = run([BIN, "--no-collector.self", "collect"]).stdout
        check("process_cpu_seconds_total" not in out, "--no-collector.self removes its series")
        disabled = os.path.join(d, "disabled.yml")
        with open(disabled, "w") as f:
            f.write("collectors:\n  self:\n    enabled: false\n")
        out = run([BIN, "--config", disabled, "--collector.self", "collect"]).stdout
        check("process_cpu_seconds_total" in out, "--collector.self enables a collector disabled in config")

        # collect --output writes the exposition atomically (no temp file left behind).
        target = os.path.join(d, "foreshock.prom")
        run([BIN, "collect", "--output", target])
        with open(target) as f:
            text = f.read()
        promtool_check(text)
        m = parse_metrics(text)
        check(value(m, "foreshock_collector_success", collector="self") == 1, "textfile has self success")
        check(sorted(os.listdir(d)) == ["bad.yml", "disabled.yml", "foreshock.prom", "good.yml"],
              f"no temporary files left: {os.listdir(d)}")
        p = run([BIN, "collect", "--output", "/nonexistent-dir/x.prom"], check_rc=False)
        check(p.returncode == 1 and "/nonexistent-dir" in p.stderr, "unwritable output is an error: " + p.stderr)
    print("test_cli: ok")


if __name__ == "__main__":
    main()
