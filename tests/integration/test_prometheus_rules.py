"""The shipped Prometheus rules: `promtool check rules` passes, every alert is exercised by
`promtool test rules` (tests/prometheus/*.yml), and every test passes."""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import SOURCE_DIR, check, require_tool, run  # noqa: E402

promtool = require_tool("promtool")
rules = os.path.join(SOURCE_DIR, "packaging", "prometheus", "foreshock-rules.yml")
run([promtool, "check", "rules", rules])

tests = sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "prometheus", "*.yml")))
check(tests, "no promtool tests under tests/prometheus")
alerts = set(re.findall(r"^\s*- alert: (\w+)", open(rules).read(), re.M))
check(alerts, "no alerts found in the rules file")
tested = set()
for t in tests:
    tested |= set(re.findall(r"alertname: (\w+)", open(t).read()))
missing = alerts - tested
check(not missing, f"alerts without a promtool test: {sorted(missing)}")
for t in tests:
    p = run([promtool, "test", "rules", os.path.basename(t)], cwd=os.path.dirname(t))
    check("SUCCESS" in p.stdout, f"promtool test rules {t}: {p.stdout}")
print(f"ok: {len(alerts)} alerts, {len(tests)} test files")
