"""A clone stands alone: the README's two commands work in a fresh clone with nothing beside it.

What a new user does: clone the repository into an empty directory (so there is no
`../shared` or anything else beside it), run the README's first command (`quickstart.sh
serve`: install, build, serve on the built-in defaults), stop it, then run the second one
(`quickstart.sh test`) in the same clone. The test command here lists the suite
(FORESHOCK_CTEST_ARGS=-N) instead of running it, which would run this test again; the clone's
unit tests are then run for real, since they are the ones that read the test data.

It also checks that the top of the repository holds only the project's own files (a
fuzzer's crash-* or timeout-* files, say, never land there).

The clone is of HEAD: commit before running this by hand. Both builds use ccache when it is
installed (scripts/install-deps.sh installs it), so after the suite's own build they are
mostly cache hits.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import SOURCE_DIR, check, fail, require_tool, run  # noqa: E402

require_tool("git")

# 1. The top of the repository: only the project's own entries.
OWN = {".ci", ".clang-format", ".gitignore", "CMakeLists.txt", "README.md", "agent", "bench",
       "collectors", "core", "docs", "exporters", "health", "man", "packaging", "scripts",
       "tests", "tools"}
top = {p.split("/", 1)[0] for p in run(["git", "-C", SOURCE_DIR, "ls-files"]).stdout.split()}
check(top <= OWN, f"files at the top of the repository that are not the project's own: {sorted(top - OWN)}")
print(f"top-level entries: {sorted(top)}")

tmp = tempfile.mkdtemp(prefix="foreshock-clone-")
server = None
try:
    clone = os.path.join(tmp, "foreshock")
    run(["git", "clone", "-q", SOURCE_DIR, clone])
    check(os.listdir(tmp) == ["foreshock"], f"the clone has neighbours: {os.listdir(tmp)}")
    check(not os.path.exists(os.path.join(tmp, "shared")), "../shared exists beside the clone")

    # 2. README command 1: serve, in the foreground, on the built-in defaults. Only the
    # listen address is given, so the test can find the port (0 = any free port).
    log_path = os.path.join(tmp, "serve.log")
    log = open(log_path, "w")
    t0 = time.monotonic()
    server = subprocess.Popen(["bash", "scripts/quickstart.sh", "serve",
                               "--web.listen-address", "127.0.0.1:0"],
                              cwd=clone, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    port = None
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline and port is None:
        if server.poll() is not None:
            fail(f"quickstart.sh serve exited {server.returncode}:\n{open(log_path).read()[-4000:]}")
        m = re.search(r'listening on 127\.0\.0\.1:(\d+)', open(log_path).read())
        if m:
            port = int(m.group(1))
        time.sleep(0.5)
    if port is None:
        fail(f"quickstart.sh serve never listened:\n{open(log_path).read()[-4000:]}")
    print(f"serve: built and listening on port {port} after {time.monotonic() - t0:.0f} s")
    body = ""
    for _ in range(100):
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            break
        except OSError:
            time.sleep(0.2)
    check("foreshock_build_info{" in body, f"/metrics of the serve build has no build info:\n{body[:2000]}")
    check("foreshock_collector_success{" in body, "/metrics has no collector series")
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fail("the agent started by quickstart.sh serve did not stop within 10 s of SIGTERM")
    server = None

    # 3. README command 2, in the same clone, after serve: it must configure its own build with
    # tests on, whatever the serve build cached.
    t0 = time.monotonic()
    # Listing only: no lab guest image is built in the clone.
    env = dict(os.environ, FORESHOCK_CTEST_ARGS="-N", FORESHOCK_LAB_PREBUILD="0")
    for k in ("FORESHOCK_BIN", "FORESHOCK_SOURCE_DIR", "FORESHOCK_BUILD_DIR", "FORESHOCK_TEST_DATA"):
        env.pop(k, None)
    p = subprocess.run(["bash", "scripts/quickstart.sh", "test"], cwd=clone, env=env,
                       capture_output=True, text=True, timeout=2400)
    check(p.returncode == 0, f"quickstart.sh test exited {p.returncode}:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    m = re.search(r"Total Tests: (\d+)", p.stdout)
    check(m is not None and int(m.group(1)) > 0, f"the test build lists no tests:\n{p.stdout[-3000:]}")
    total = int(m.group(1))
    print(f"test: configured and built in {time.monotonic() - t0:.0f} s; {total} tests listed")
    for suite in ("AtaBlob", "Smartctl", "LldpDecoder", "integration.test_replay", "fuzz.smoke"):
        check(suite in p.stdout, f"{suite} is not in the clone's test list")

    # 4. The clone's unit tests pass (they read tests/fixtures/data, nothing beside the clone).
    p = subprocess.run(["ctest", "--test-dir", os.path.join(clone, "build-test"), "-L", "unit",
                        "--no-tests=error", "-j", str(os.cpu_count() or 2)],
                       capture_output=True, text=True, timeout=1200)
    check(p.returncode == 0, f"the clone's unit tests failed:\n{p.stdout[-6000:]}")
    m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", p.stdout)
    check(m is not None and int(m.group(3)) > 100, f"unexpected unit test summary:\n{p.stdout[-2000:]}")
    print(f"clone unit tests: {m.group(3)} passed")
finally:
    if server is not None and server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    shutil.rmtree(tmp, ignore_errors=True)
print("ok")
