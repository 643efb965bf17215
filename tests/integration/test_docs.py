"""Documentation follows the code: the configuration reference equals what the binary
generates from its schema, every collector has a metrics page, and every series family the
golden run and the live run emit is documented."""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, SOURCE_DIR, check, fail, run  # noqa: E402


def main():
    ref = run([BIN, "config-reference", "--format", "markdown"]).stdout
    with open(os.path.join(SOURCE_DIR, "docs", "configuration.md")) as f:
        doc = f.read()
    check(doc.endswith(ref), "docs/configuration.md is out of date: run scripts/gen-docs.sh")

    docs_text = ""
    for path in glob.glob(os.path.join(SOURCE_DIR, "docs", "metrics", "*.md")):
        with open(path) as f:
            docs_text += f.read()
    with open(os.path.join(SOURCE_DIR, "docs", "metrics.md")) as f:
        index = f.read()

    listing = run([BIN, "list-collectors", "--format", "json"]).stdout
    for name in re.findall(r'"name":"([a-z_]+)"', listing):
        page = os.path.join(SOURCE_DIR, "docs", "metrics", f"{name}.md")
        check(os.path.exists(page), f"collector {name} has no docs/metrics/{name}.md")
        check(f"metrics/{name}.md" in index, f"docs/metrics.md does not link metrics/{name}.md")

    with open(os.path.join(SOURCE_DIR, "tests", "golden", "collect.prom")) as f:
        golden = f.read()
    live = run([BIN, "collect"]).stdout
    missing = set()
    for text in (golden, live):
        for fam in re.findall(r"^# TYPE (\S+) ", text, re.M):
            if f"`{fam}`" not in docs_text and f"{fam}" not in docs_text:
                missing.add(fam)
    if missing:
        fail("series families not documented in docs/metrics/*.md: " + ", ".join(sorted(missing)))
    print("test_docs: ok")


if __name__ == "__main__":
    main()
