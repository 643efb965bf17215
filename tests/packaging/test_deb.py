"""The Debian package: packaging/build-deb.sh builds it with dpkg-buildpackage (-us -uc -b),
reusing the binary of this build (FORESHOCK_BIN) so that the package test does not compile
everything a second time; the .deb is unpacked into a scratch root with dpkg -x and its
contents checked: binary, unit with the /usr paths, sysusers entry and the maintainer script
that applies it, the default config as a conffile, man pages, every shipped Prometheus rules
file and the dashboard, the dependencies; the installed unit passes systemd-analyze verify, the
installed config passes --check-config, and lintian reports no error."""
import glob
import gzip
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from fslib import BIN, SOURCE_DIR, check, fail, require_tool, run  # noqa: E402

for tool in ("dpkg-buildpackage", "dpkg-deb", "dh", "lintian", "systemd-analyze"):
    require_tool(tool)


def read(path):
    with open(path) as f:
        return f.read()


def main():
    if not BIN:
        fail("FORESHOCK_BIN is not set")
    version = re.search(r"project\(foreshock VERSION (\S+)", read(os.path.join(SOURCE_DIR, "CMakeLists.txt"))).group(1)
    changelog = read(os.path.join(SOURCE_DIR, "packaging", "debian", "changelog"))
    check(changelog.startswith(f"foreshock ({version})"),
          f"debian/changelog's top version is not the project version {version}")

    with tempfile.TemporaryDirectory(prefix="fspk-deb-") as d:
        out = os.path.join(d, "out")
        p = subprocess.run([os.path.join(SOURCE_DIR, "packaging", "build-deb.sh"), out, BIN],
                           capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"build-deb.sh failed ({p.returncode}):\n{p.stdout[-6000:]}\n{p.stderr[-4000:]}")
        debs = glob.glob(os.path.join(out, "*.deb"))
        check(len(debs) == 1, f"expected one .deb, got {debs}")
        deb = debs[0]
        check(os.path.basename(deb).startswith(f"foreshock_{version}_"), f"unexpected name {deb}")

        root = os.path.join(d, "root")
        run(["dpkg", "-x", deb, root])
        ctl = os.path.join(d, "control")
        run(["dpkg-deb", "-e", deb, ctl])

        binary = os.path.join(root, "usr/sbin/foreshock")
        check(os.access(binary, os.X_OK), "usr/sbin/foreshock missing or not executable")
        check(version in run([binary, "version"]).stdout, "packaged binary reports another version")

        unit = os.path.join(root, "lib/systemd/system/foreshock.service")
        utext = read(unit)
        check("ExecStart=/usr/sbin/foreshock --config /etc/foreshock/foreshock.yml serve $FORESHOCK_ARGS" in utext,
              "installed unit does not start /usr/sbin/foreshock with /etc/foreshock/foreshock.yml")
        check(read(os.path.join(root, "usr/lib/sysusers.d/foreshock.conf")) ==
              read(os.path.join(SOURCE_DIR, "packaging/systemd/foreshock.sysusers")), "sysusers file differs")
        check(read(os.path.join(root, "etc/foreshock/foreshock.yml")) ==
              read(os.path.join(SOURCE_DIR, "packaging/foreshock.yml")), "default config differs")
        check("FORESHOCK_ARGS=" in read(os.path.join(root, "etc/default/foreshock")), "no /etc/default/foreshock")
        for page in ("usr/share/man/man8/foreshock.8.gz", "usr/share/man/man5/foreshock.yml.5.gz"):
            with gzip.open(os.path.join(root, page), "rt") as f:
                check(".SH NAME" in f.read(), f"{page} is not a man page")
        for rules in glob.glob(os.path.join(SOURCE_DIR, "packaging/prometheus/*.yml")):
            shipped = os.path.join(root, "usr/share/foreshock/prometheus", os.path.basename(rules))
            check(os.path.exists(shipped) and read(shipped) == read(rules), f"{rules} not shipped as is")
        check(os.path.exists(os.path.join(root, "usr/share/foreshock/grafana/foreshock-host.json")),
              "dashboard not shipped")

        conffiles = read(os.path.join(ctl, "conffiles")).split()
        check("/etc/foreshock/foreshock.yml" in conffiles and "/etc/default/foreshock" in conffiles,
              f"config files are not conffiles: {conffiles}")
        postinst = read(os.path.join(ctl, "postinst"))
        check("systemd-sysusers" in postinst and "foreshock.conf" in postinst, "postinst does not create the user")
        check("deb-systemd-helper enable 'foreshock.service'" in postinst, "postinst does not enable the service")
        info = run(["dpkg-deb", "-f", deb, "Depends", "Recommends", "Built-Using"]).stdout
        check("libyaml-cpp" in info and "libsensors" in info, f"shlibs dependencies missing:\n{info}")
        # GnuTLS is dlopen'ed (invisible to dpkg-shlibdeps) and libmicrohttpd linked statically.
        check(re.search(r"^Depends: .*libgnutls30 \(>= [0-9.]+\)", info, re.M),
              f"no dependency on the dlopen'ed libgnutls30:\n{info}")
        check(re.search(r"^Built-Using: libmicrohttpd \(= [^)]+\)", info, re.M),
              f"statically linked libmicrohttpd not in Built-Using:\n{info}")
        check("systemd-sysusers" in info, f"no dependency providing systemd-sysusers:\n{info}")
        check(re.search(r"^Recommends: .*smartmontools", info, re.M), f"smartmontools not recommended:\n{info}")

        # The installed unit verifies against the installed man pages and binary.
        with tempfile.TemporaryDirectory(prefix="fspk-unit-") as u:
            copy = os.path.join(u, "foreshock.service")
            with open(copy, "w") as f:
                f.write(utext.replace("/usr/sbin/foreshock", binary))
            p = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True,
                               env=dict(os.environ, MANPATH=os.path.join(root, "usr/share/man")))
            check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
                  f"verify of the installed unit:\n{p.stdout}{p.stderr}")
        p = run([binary, "--config", os.path.join(root, "etc/foreshock/foreshock.yml"), "--check-config"],
                check_rc=False)
        check(p.returncode == 0, f"installed config rejected:\n{p.stderr}")

        p = subprocess.run(["lintian", "--no-tag-display-limit", deb], capture_output=True, text=True)
        print(p.stdout.strip() or "lintian: no tags")
        errors = [line for line in p.stdout.splitlines() if line.startswith("E:")]
        check(not errors, "lintian errors:\n" + "\n".join(errors))
    print("ok")


if __name__ == "__main__":
    main()
