"""The shipped default configuration (packaging/foreshock.yml) is valid, names every top-level
section and every built-in collector (at least in a comment), and agrees with the systemd unit
on the state directory."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, SOURCE_DIR, check, run  # noqa: E402
import json  # noqa: E402


def main():
    path = os.path.join(SOURCE_DIR, "packaging", "foreshock.yml")
    p = run([BIN, "--config", path, "--check-config"], check_rc=False)
    check(p.returncode == 0, f"default config rejected:\n{p.stdout}{p.stderr}")
    with open(path) as f:
        text = f.read()

    ref = run([BIN, "config-reference", "--format", "markdown"]).stdout
    sections = [s for s in re.findall(r"^### (\S+)$", ref, re.M) if not s.startswith("collectors.")]
    for s in sections + ["collectors"]:
        check(re.search(rf"^{re.escape(s)}:", text, re.M), f"section {s} missing from {path}")
    collectors = [c["name"] for c in json.loads(run([BIN, "list-collectors", "--format", "json"]).stdout)]
    for c in collectors:
        check(re.search(rf"^\s*#?\s*{re.escape(c)}:", text, re.M),
              f"collector {c} is not in {path} (add its section, commented if it keeps the defaults)")

    unit = os.path.join(SOURCE_DIR, "packaging", "systemd", "foreshock.service.in")
    with open(unit) as f:
        state_dir = re.search(r"^StateDirectory=(\S+)$", f.read(), re.M).group(1)
    m = re.search(r"^state:\n(?:\s+#.*\n)*\s+directory: (\S+)$", text, re.M)
    check(m and m.group(1) == f"/var/lib/{state_dir}",
          f"state.directory does not match the unit's StateDirectory=/var/lib/{state_dir}")
    print(f"ok: {len(sections)} sections, {len(collectors)} collectors")


if __name__ == "__main__":
    main()
