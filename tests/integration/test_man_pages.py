"""The man pages rendered at build time (build/man/man8/foreshock.8, build/man/man5/
foreshock.yml.5) are warning-free for man and groff, foreshock(8) documents every flag of
`foreshock --help` and of every subcommand's --help, every subcommand and every collector, and
foreshock.yml(5) documents every key of the compiled configuration schema."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, check, fail, require_tool, run  # noqa: E402

BUILD = os.environ.get("FORESHOCK_BUILD_DIR") or fail("FORESHOCK_BUILD_DIR is not set")
MAN = require_tool("man")
GROFF = require_tool("groff")
PAGE8 = os.path.join(BUILD, "man", "man8", "foreshock.8")
PAGE5 = os.path.join(BUILD, "man", "man5", "foreshock.yml.5")


def render(page):
    """The page as plain text, one paragraph per line (no line breaks inside flag names)."""
    env = dict(os.environ, MANWIDTH="1000", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    p = subprocess.run([MAN, "--warnings", "-l", page], capture_output=True, text=True, env=env)
    check(p.returncode == 0, f"man failed on {page}: {p.stderr}")
    check(not p.stderr.strip(), f"man --warnings on {page}:\n{p.stderr}")
    return re.sub(r".\x08", "", p.stdout)


def section(text, name):
    m = re.search(rf"^{name}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.S | re.M)
    check(m, f"no {name} section")
    return m.group(1)


def flags_of(help_text):
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w.\-]*)", help_text.split("Subcommands:")[0]))


def main():
    for page in (PAGE8, PAGE5):
        check(os.path.exists(page), f"{page} was not rendered by the build")
        p = run([GROFF, "-ww", "-z", "-man", page], check_rc=False)
        check(p.returncode == 0 and not p.stderr.strip(), f"groff -ww on {page}:\n{p.stderr}")
    text8, text5 = render(PAGE8), render(PAGE5)

    for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "OPTIONS", "COLLECTORS",
                 "PRIVILEGES", "SIGNALS", "SYSTEMD", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        section(text8, name)
    collectors_text = section(text8, "COLLECTORS")
    subcommands_text = section(text8, "SUBCOMMANDS")

    top = run([BIN, "--help"]).stdout
    subs = re.findall(r"^  (\S+)\s{2,}", top.split("Subcommands:")[1], re.M)
    check(subs, "no subcommands found in --help")
    missing = []
    for flag in sorted(flags_of(top)):
        m = re.match(r"--(no-)?collector\.(\w+)$", flag)
        if m:
            if not re.search(rf"^\s+{m.group(2)}(\s|$)", collectors_text, re.M):
                missing.append(f"{flag} (collector {m.group(2)} not listed under COLLECTORS)")
            continue
        if flag not in text8:
            missing.append(flag)
    check("--collector.NAME" in text8 and "--no-collector.NAME" in text8, "generic collector flags undocumented")
    for sub in subs:
        if not re.search(rf"^\s+{re.escape(sub)}(\s|$)", subcommands_text, re.M):
            missing.append(f"subcommand {sub}")
        # -h/--help of every subcommand is documented once under OPTIONS.
        for flag in sorted(flags_of(run([BIN, sub, "--help"]).stdout) - {"-h", "--help"}):
            if flag not in subcommands_text:
                missing.append(f"{sub} {flag}")
    check(not missing, "undocumented in foreshock(8): " + ", ".join(missing))

    ref = run([BIN, "config-reference", "--format", "markdown"]).stdout
    keys = re.findall(r"^\| `([^`]+)` \|", ref, re.M)
    check(keys, "config-reference printed no keys")
    undocumented = [k for k in keys if not re.search(rf"^\s+{re.escape(k)}(\s|$)", text5, re.M)]
    check(not undocumented, "keys missing from foreshock.yml(5): " + ", ".join(undocumented))
    print(f"ok: {len(flags_of(top))} global flags, {len(subs)} subcommands, {len(keys)} keys")


if __name__ == "__main__":
    main()
