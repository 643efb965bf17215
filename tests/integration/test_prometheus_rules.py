"""Every shipped rules file (packaging/prometheus/*.yml) passes `promtool check rules`, and every
rules unit test (tests/rules/*.test.yml) passes `promtool test rules` with the real `for:`."""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import SOURCE_DIR, check, require_tool, run  # noqa: E402


def main():
    promtool = require_tool("promtool")
    rules = sorted(glob.glob(os.path.join(SOURCE_DIR, "packaging", "prometheus", "*.yml")))
    check(rules, "no rule files in packaging/prometheus")
    for r in rules:
        run([promtool, "check", "rules", r])
    tests = sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "rules", "*.test.yml")))
    check(tests, "no rule tests in tests/rules")
    for t in tests:
        p = run([promtool, "test", "rules", os.path.basename(t)], cwd=os.path.dirname(t))
        print(p.stdout.strip())
    print(f"ok: {len(rules)} rule files, {len(tests)} rule tests")


if __name__ == "__main__":
    main()
