"""The shipped Prometheus rules: every file in packaging/prometheus passes `promtool check
rules`, every alert in them is exercised by a `promtool test rules` file under
tests/prometheus/, and every such test passes (with the real `for:` durations)."""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import SOURCE_DIR, check, require_tool, run  # noqa: E402


def main():
    promtool = require_tool("promtool")
    rules = sorted(glob.glob(os.path.join(SOURCE_DIR, "packaging", "prometheus", "*.yml")))
    check(rules, "no rule files in packaging/prometheus")
    alerts = set()
    for r in rules:
        run([promtool, "check", "rules", r])
        with open(r) as f:
            alerts |= set(re.findall(r"^\s*- alert: (\w+)", f.read(), re.M))
    check(alerts, "no alerts found in the rule files")
    tests = sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "prometheus", "*.yml")))
    check(tests, "no promtool tests under tests/prometheus")
    tested = set()
    for t in tests:
        with open(t) as f:
            tested |= set(re.findall(r"alertname: (\w+)", f.read()))
    missing = alerts - tested
    check(not missing, f"alerts without a promtool test: {sorted(missing)}")
    for t in tests:
        p = run([promtool, "test", "rules", os.path.basename(t)], cwd=os.path.dirname(t))
        check("SUCCESS" in p.stdout, f"promtool test rules {t}: {p.stdout}")
    print(f"ok: {len(rules)} rule files, {len(alerts)} alerts, {len(tests)} test files")


if __name__ == "__main__":
    main()
