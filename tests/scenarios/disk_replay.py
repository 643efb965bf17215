"""A failing disk for the outage scenarios, built from real data only.

The device report is a real `smartctl --json` report of a Seagate ATA drive (ST3500418AS, from
the shared smartctl_exporter fixtures). For each replayed day its identity and the attributes
Backblaze recorded are replaced by one real Backblaze Drive Stats row of a drive that failed
(shared `backblaze/ST4000DM000-2018/failed_drives.csv`):

| report field | Backblaze column |
|---|---|
| `model_name`, `serial_number` | `model`, `serial_number` |
| attribute 5, 187, 188, 197, 198 `raw` | `smart_5_raw`, ... `smart_198_raw` |
| attribute 9 `raw`, `power_on_time.hours` | `smart_9_raw` |
| attribute 194 `raw`, `temperature.current` | `smart_194_raw` |

Fields that identify the template drive and that Backblaze does not record (`wwn`,
`model_family`, `user_capacity`) are removed rather than left pointing at another drive; the
normalized values and the other attributes stay the template drive's (Backblaze's file has no
normalized values), which is why the pre-fail threshold checks stay quiet.

ReplayDisk writes the report into the agent's `collectors.smart.replay_dir` atomically (a temp
file outside the replay folder, then rename), so the collector never reads a half-written
file.
"""
import copy
import csv
import json
import os

from scenario_lib import fail
from fslib import TEST_DATA

TEMPLATE = os.path.join(TEST_DATA, "smart", "smartctl-json", "smartctl_exporter",
                        "ST3500418AS_11.json")
FAILED_DRIVES = os.path.join(TEST_DATA, "backblaze", "ST4000DM000-2018", "failed_drives.csv")

# Backblaze columns copied into the attribute table, by attribute id.
ATTRIBUTE_COLUMNS = {5: "smart_5_raw", 9: "smart_9_raw", 187: "smart_187_raw",
                     188: "smart_188_raw", 194: "smart_194_raw", 197: "smart_197_raw",
                     198: "smart_198_raw"}


def backblaze_days(serial, dates):
    """{date: row} of the failed drive `serial` for the given dates (YYYY-MM-DD)."""
    if not os.path.exists(FAILED_DRIVES):
        fail(f"{FAILED_DRIVES} is missing (shared Backblaze data)")
    wanted = set(dates)
    rows = {}
    with open(FAILED_DRIVES, newline="") as f:
        for row in csv.DictReader(f):
            if row["serial_number"] == serial and row["date"] in wanted:
                rows[row["date"]] = row
    missing = sorted(wanted - set(rows))
    if missing:
        fail(f"{FAILED_DRIVES}: no row for drive {serial} on {missing}")
    return rows


def count(row, column):
    """A Backblaze raw column as an int (the file writes some counts as `16.0`)."""
    text = row.get(column, "")
    if text == "":
        fail(f"Backblaze row {row['serial_number']} {row['date']} has no {column}")
    return int(float(text))


def report_for(row):
    """The template smartctl --json report carrying this Backblaze row's identity and counters."""
    with open(TEMPLATE) as f:
        doc = json.load(f)
    doc = copy.deepcopy(doc)
    if doc.get("device", {}).get("protocol") != "ATA" or not doc["model_name"].startswith("ST"):
        fail(f"{TEMPLATE} is not a Seagate ATA report")
    for key in ("wwn", "model_family", "user_capacity"):
        doc.pop(key, None)
    doc["model_name"] = row["model"]
    doc["serial_number"] = row["serial_number"]
    table = {a["id"]: a for a in doc["ata_smart_attributes"]["table"]}
    for attr_id, column in ATTRIBUTE_COLUMNS.items():
        if attr_id not in table:
            fail(f"{TEMPLATE} has no attribute {attr_id}")
        v = count(row, column)
        table[attr_id]["raw"] = {"value": v, "string": str(v)}
    doc["power_on_time"] = {"hours": count(row, "smart_9_raw")}
    doc["temperature"] = {"current": count(row, "smart_194_raw")}
    return doc


class ReplayDisk:
    """One disk file `<replay_dir>/<name>.json`, rewritten atomically with a day's report."""

    def __init__(self, workdir, name="sda"):
        self.replay_dir = os.path.join(workdir, "replay")
        self.spool = os.path.join(workdir, "replay-spool")  # same file system, not scanned
        os.makedirs(self.replay_dir, exist_ok=True)
        os.makedirs(self.spool, exist_ok=True)
        self.name = name
        self.path = os.path.join(self.replay_dir, name + ".json")

    def write(self, row):
        tmp = os.path.join(self.spool, self.name + ".json.tmp")
        with open(tmp, "w") as f:
            json.dump(report_for(row), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
