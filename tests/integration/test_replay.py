"""`foreshock replay --backblaze` and tools/evaluate_replay.py on a slice of the Backblaze data.

The slice (tests/fixtures/data/backblaze, see its SOURCES.md): every failed drive
(failed_drives.csv) and the first 1,500 healthy drives of the project's healthy_drives.csv.gz
(healthy_drives_first1500.csv.gz). The evaluation must stay above the floor documented in
docs/prediction.md ("CI floor"); the floor is set below the slice's measured figures with
room for the confidence interval, so a real regression of the model or the rules trips it.
"""
import atexit
import csv
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, TEST_DATA, SOURCE_DIR, check, fail, run  # noqa: E402

HEADER = "serial,failed,last_date,first_alarm_date,first_alarm_severity,max_risk"
BB = os.path.join(TEST_DATA, "backblaze")
FAILED = os.path.join(BB, "ST4000DM000-2018", "failed_drives.csv")
HEALTHY = os.path.join(BB, "ST4000DM000-2018", "healthy_drives_first1500.csv.gz")
FULL_SCHEMA = os.path.join(BB, "daily-2013-04-10.csv.gz")
tmp = tempfile.mkdtemp(prefix="foreshock-replay-test-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # also when a check fails (sys.exit)


def replay(*files, extra=()):
    cmd = [BIN, "replay"] + list(extra)
    for f in files:
        cmd += ["--backblaze", f]
    return run(cmd).stdout


# 1. Header, one line per drive, failed flags.
out = replay(FAILED)
lines = out.splitlines()
check(lines[0] == HEADER, f"header: {lines[0]!r}")
serials = {r["serial_number"] for r in csv.DictReader(open(FAILED))}
check(len(lines) - 1 == len(serials), f"{len(lines) - 1} lines for {len(serials)} drives")
rows = list(csv.DictReader(io.StringIO(out)))
check(all(r["failed"] == "1" for r in rows), "a drive of failed_drives.csv is not marked failed")
alarmed = [r for r in rows if r["first_alarm_date"]]
check(alarmed and all(r["first_alarm_severity"] in ("warning", "critical") for r in alarmed), "alarm severities")
check(all(r["first_alarm_date"] <= r["last_date"] for r in alarmed), "alarm after the last day")

# 2. Any row order, gzip or plain: the same result.
with open(FAILED) as f:
    header, *body = f.read().splitlines()
random.Random(1).shuffle(body)
shuffled = os.path.join(tmp, "shuffled.csv")
with open(shuffled, "w") as f:
    f.write("\n".join([header] + body) + "\n")
check(replay(shuffled) == out, "shuffled rows give a different result")
with gzip.open(shuffled + ".gz", "wt") as f:
    f.write("\n".join([header] + body) + "\n")
check(replay(shuffled + ".gz") == out, "gzip input gives a different result")

# 3. The original full schema (one day of every drive in 2013).
full = list(csv.DictReader(io.StringIO(replay(FULL_SCHEMA))))
with gzip.open(FULL_SCHEMA, "rt") as f:
    src = list(csv.DictReader(f))
check(len(full) == len({r["serial_number"] for r in src}), "full schema: one line per drive")
check(sum(r["failed"] == "1" for r in full) == sum(r["failure"] == "1" for r in src), "full schema: failures")
check(all(r["last_date"] == "2013-04-10" for r in full), "full schema: dates")

# 4. A file without the needed columns is an error naming it.
bad = os.path.join(tmp, "bad.csv")
with open(bad, "w") as f:
    f.write("serial,when\nX,2018-01-01\n")
p = run([BIN, "replay", "--backblaze", bad], check_rc=False)
check(p.returncode == 1 and "bad.csv" in p.stderr and "serial_number" in p.stderr, f"bad header: {p.stderr!r}")

# 5. Evaluation on the slice, against the documented floor (the compiled operating point).
slice_healthy = HEALTHY
res_path = os.path.join(tmp, "eval.json")
p = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "tools", "evaluate_replay.py"),
                    "--foreshock", BIN, "--json", res_path, FAILED, slice_healthy],
                   capture_output=True, text=True)
if p.returncode != 0:
    fail(f"evaluate_replay.py failed: {p.stderr}")
print(p.stdout)
res = json.load(open(res_path))
check(res["chosen_threshold"] == -1, f"evaluation did not use the compiled operating point: {res['chosen_threshold']}")
model = res["methods"]["foreshock model (ForeshockDiskWillFail)"]["all_drives_jun_sep"]
inc = res["methods"]["7-day increase of 5/187/197/198"]["all_drives_jun_sep"]
# CI floor (docs/prediction.md "CI floor"). Measured on this slice on 2026-12-05 (trees):
# failed Jun-Sep alarmed >= 1 d before 0.524 (77/147), 1-30 d before 0.238 (35/147), median
# lead 39 d (any); healthy ever alarmed Jan-Sep 0.73 % (11/1500), new false alarms Jun-Sep
# 0.28 % per 4 months; 7-day increase rule 0.252 (1-30 d) and 1.27 % healthy in 9 months.
check(model["failed_drives"] >= 140, f"slice lost failed drives: {model['failed_drives']}")
check(model["detection_rate_any_lead"] >= 0.45,
      f"model detection (>= 1 d) below the floor: {model['detection_rate_any_lead']:.3f}")
check(model["detection_rate"] >= 0.18, f"model detection (1-30 d) below the floor: {model['detection_rate']:.3f}")
check(model["healthy_alarmed_9_months_rate"] <= 0.012,
      f"model: healthy drives alarmed in 9 months above the ceiling: {model['healthy_alarmed_9_months_rate']:.4f}")
check(model["false_alarm_rate_per_4_months"] <= 0.009,
      f"model new false alarms above the ceiling: {model['false_alarm_rate_per_4_months']:.4f}")
check(model["median_lead_days_any"] >= 21, f"model median lead below the floor: {model['median_lead_days_any']}")
# The model must stay quieter than the rule it is compared with, on the same healthy drives.
check(model["healthy_alarmed_9_months"] < inc["healthy_alarmed_9_months"],
      f"model alarms as many healthy drives as the 7-day rule: {model['healthy_alarmed_9_months']} "
      f"vs {inc['healthy_alarmed_9_months']}")
check(inc["detection_rate"] >= 0.20, f"7-day increase rule detection below the floor: {inc['detection_rate']:.3f}")
print("ok")
