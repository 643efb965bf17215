"""The textfile recipe of foreshock(8) through the real node_exporter (Debian
prometheus-node-exporter): the command from the man page's EXAMPLES writes a file into a
textfile directory, node_exporter serves it on 127.0.0.1 (this test runs in a private network
namespace with only loopback), and a scrape must carry the foreshock series with
node_textfile_scrape_error 0 and no gathering error. As a control, the same command without
--no-collector.self must make node_exporter's gathering fail (its process_* series collide),
so the test can tell the two apart.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, SOURCE_DIR, TEST_DATA, check, fail, free_port, parse_metrics, run, stop_process, value, wait_for  # noqa: E402

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
FIXTURE = os.path.join(SOURCE_DIR, "tests", "fixtures", "golden")


def recipe():
    """The textfile command of foreshock(8)'s EXAMPLES, as argv."""
    with open(os.path.join(SOURCE_DIR, "man", "foreshock.8.in")) as f:
        page = f.read()
    m = re.search(r"textfile collector from cron.*?\n\.B (foreshock [^\n]*)\n", page, re.S)
    check(m, "foreshock.8.in has no textfile recipe under EXAMPLES")
    return shlex.split(m.group(1).replace("\\-", "-"))


def write_textfile(argv, directory):
    """Runs `argv` (a foreshock command line) on the golden fixture root, its -o FILE moved into
    `directory`."""
    check(argv[0] == "foreshock" and "-o" in argv, f"unexpected recipe {argv}")
    argv = list(argv)
    out = os.path.join(directory, os.path.basename(argv[argv.index("-o") + 1]))
    argv[argv.index("-o") + 1] = out
    fixture_args = ["--config", os.path.join(SOURCE_DIR, "tests", "golden", "collect.yml"),
                    "--path.procfs", os.path.join(FIXTURE, "proc"),
                    "--path.sysfs", os.path.join(FIXTURE, "sys"),
                    "--path.rootfs", FIXTURE]
    env = dict(os.environ, FORESHOCK_TEST_DATA=os.path.abspath(TEST_DATA))
    run([BIN] + fixture_args + argv[1:], env=env, cwd=SOURCE_DIR)
    check(os.path.getsize(out) > 0, f"{out} is empty")
    return out


def scrape_through_node_exporter(directory):
    """Starts node_exporter on the textfile directory, scrapes it twice (the second scrape shows
    the gathering errors of the first) and returns (text, log)."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                             f"--collector.textfile.directory={directory}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/metrics"

        def get():
            if proc.poll() is not None:
                log.seek(0)
                fail(f"node_exporter exited {proc.returncode}: {log.read()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return r.status, r.read().decode()
            except OSError:
                return None

        status, _ = wait_for(get, timeout=15, what="node_exporter to answer")
        check(status == 200, f"first scrape: HTTP {status}")
        status, text = get()
        check(status == 200, f"second scrape: HTTP {status}")
        log.seek(0)
        return text, log.read()
    finally:
        stop_process(proc, timeout=5)
        log.close()


def main():
    check(BIN, "FORESHOCK_BIN is not set")
    check(os.access(NODE_EXPORTER, os.X_OK),
          f"{NODE_EXPORTER} is missing (apt-get install prometheus-node-exporter; "
          "scripts/install-deps.sh test)")
    argv = recipe()
    check("--no-collector.self" in argv, f"the recipe {argv} keeps the self collector")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="foreshock-textfile-") as d:
        write_textfile(argv, d)
        text, log = scrape_through_node_exporter(d)
        m = parse_metrics(text)
        check(value(m, "node_textfile_scrape_error") == 0,
              f"node_textfile_scrape_error is {value(m, 'node_textfile_scrape_error')}")
        errors = value(m, "promhttp_metric_handler_errors_total", cause="gathering")
        check(errors == 0, f"node_exporter counted {errors} gathering errors:\n{log}")
        check("was collected before" not in log, f"node_exporter logged a collision:\n{log}")
        for family in ("foreshock_disk_up", "foreshock_disk_info", "foreshock_health_status",
                       "foreshock_collector_success"):
            check(any(n == family for n, _ in m), f"{family} is missing from node_exporter's scrape")
        check(value(m, "foreshock_collector_success", collector="smart") == 1,
              "foreshock_collector_success{collector=\"smart\"} is not 1 through node_exporter")
        check(value(m, "foreshock_collector_success", collector="self") is None,
              "the self collector ran although the recipe disables it")
        n_foreshock = sum(1 for n, _ in m if n.startswith("foreshock_"))

    # Control: the old recipe (self collector on) breaks node_exporter's gathering.
    with tempfile.TemporaryDirectory(prefix="foreshock-textfile-") as d:
        write_textfile([a for a in argv if a != "--no-collector.self"], d)
        text, log = scrape_through_node_exporter(d)
        errors = value(parse_metrics(text), "promhttp_metric_handler_errors_total",
                       cause="gathering")
        check(errors and errors > 0 and "was collected before" in log,
              "control failed: with the self collector node_exporter should report colliding "
              f"process_* series (gathering errors {errors}); the test could not tell")
    print(f"test_textfile_node_exporter: ok ({n_foreshock} foreshock series through node_exporter, "
          f"control collision seen, {time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
