"""The build itself rejects an include that goes up the layers.

docs/design.md: core <- collectors, health, exporters <- agent. Each layer's library is compiled
with an include root that holds only its own folder and those of the layers it links
(CMakeLists.txt, foreshock_target LAYER). This test takes the real compile command of one
source file of each layer from compile_commands.json, compiles a probe file with it that
includes a header of every folder, and checks that exactly the allowed ones compile.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import SOURCE_DIR, check, fail  # noqa: E402

BUILD = os.environ.get("FORESHOCK_BUILD_DIR", "")
if not BUILD:
    fail("FORESHOCK_BUILD_DIR is not set (run through ctest)")
db_path = os.path.join(BUILD, "compile_commands.json")
if not os.path.exists(db_path):
    fail(f"{db_path} is missing (CMAKE_EXPORT_COMPILE_COMMANDS is ON in CMakeLists.txt)")
db = json.load(open(db_path))

# One header of each layer, and what each layer may include.
HEADERS = {
    "core": "core/result.h",
    "collectors": "collectors/collector.h",
    "health": "health/engine.h",
    "exporters": "exporters/prometheus/exposition.h",
    "agent": "agent/config.h",
}
ALLOWED = {
    "core": {"core"},
    "collectors": {"core", "collectors"},
    "health": {"core", "health"},
    "exporters": {"core", "health", "exporters"},
    "agent": {"core", "collectors", "health", "exporters", "agent"},
}


def command_for(layer):
    prefix = os.path.join(os.path.realpath(SOURCE_DIR), layer) + os.sep
    for entry in db:
        src = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if src.startswith(prefix) and src.endswith(".cc") and "/tests/" not in src:
            args = entry.get("arguments") or shlex.split(entry["command"])
            return entry["directory"], args
    fail(f"no compile command for a source file of {layer}/ in {db_path}")


def compiles(layer, header):
    directory, args = command_for(layer)
    with tempfile.TemporaryDirectory(prefix="foreshock-layering-") as tmp:
        probe = os.path.join(tmp, "probe.cc")
        with open(probe, "w") as f:
            f.write(f'#include "{header}"\n')
        out = []
        it = iter(args)
        for a in it:
            if a in ("-o", "-c", "-MT", "-MF", "-MQ"):
                next(it, None)  # drops the object, the source, the dependency file names
            elif a != "-MD":
                out.append(a)
        # The compiler launcher (ccache) is not needed here.
        if os.path.basename(out[0]) == "ccache":
            out = out[1:]
        cmd = out + ["-fsyntax-only", probe]
        p = subprocess.run(cmd, cwd=directory, capture_output=True, text=True)
        return p.returncode == 0, p.stderr


for layer, allowed in ALLOWED.items():
    for folder, header in HEADERS.items():
        ok, err = compiles(layer, header)
        if folder in allowed:
            check(ok, f"{layer}/ cannot include {header}, which its layer may use:\n{err}")
        else:
            check(not ok, f"{layer}/ can include {header}: the build does not stop an upward include")
            check("No such file" in err, f"{layer}/ including {header} failed for another reason:\n{err}")
        print(f"{layer:10s} #include \"{header}\": {'compiles' if ok else 'rejected'}")
print("ok")
