"""Golden end-to-end test: the full `foreshock collect` output on the fixture root
(tests/fixtures/golden) must equal tests/golden/collect.prom, after masking the values that
change from run to run (durations, timestamps, build labels).

Regenerate after an intended change:
    FORESHOCK_UPDATE_GOLDEN=1 ctest --test-dir build -R golden
and review the diff of tests/golden/collect.prom before committing it.
"""
import difflib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, SOURCE_DIR, TEST_DATA, fail, promtool_check, run  # noqa: E402

GOLDEN = os.path.join(SOURCE_DIR, "tests", "golden", "collect.prom")
FIXTURE = os.path.join(SOURCE_DIR, "tests", "fixtures", "golden")

# Series whose values legitimately differ between runs.
VOLATILE_VALUES = re.compile(
    r"^(foreshock_collector_duration_seconds|foreshock_collector_last_success_timestamp_seconds|"
    r"foreshock_disk_last_read_timestamp_seconds|foreshock_\w*_last_seen_timestamp_seconds)(\{.*\})? .*$")


def normalise(text):
    out = []
    for line in text.splitlines():
        m = VOLATILE_VALUES.match(line)
        if m:
            line = f"{m.group(1)}{m.group(2) or ''} <volatile>"
        line = re.sub(r'^foreshock_build_info\{.*\} 1$', 'foreshock_build_info{<build labels>} 1', line)
        out.append(line)
    return "\n".join(out) + "\n"


def main():
    env = dict(os.environ, FORESHOCK_TEST_DATA=os.path.abspath(TEST_DATA))
    p = run([BIN, "--config", os.path.join(SOURCE_DIR, "tests", "golden", "collect.yml"),
             "--path.procfs", os.path.join(FIXTURE, "proc"),
             "--path.sysfs", os.path.join(FIXTURE, "sys"),
             "--path.rootfs", FIXTURE, "collect"], env=env, cwd=SOURCE_DIR)
    promtool_check(p.stdout)
    got = normalise(p.stdout)
    if os.environ.get("FORESHOCK_UPDATE_GOLDEN") == "1":
        with open(GOLDEN, "w") as f:
            f.write(got)
        print(f"test_golden: wrote {GOLDEN}")
        return
    if not os.path.exists(GOLDEN):
        fail(f"{GOLDEN} is missing; run with FORESHOCK_UPDATE_GOLDEN=1 to create it")
    with open(GOLDEN) as f:
        want = f.read()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                            "golden", "actual"))
        fail("collect output differs from the golden file "
             "(FORESHOCK_UPDATE_GOLDEN=1 regenerates it):\n" + diff)
    print("test_golden: ok")


if __name__ == "__main__":
    main()
