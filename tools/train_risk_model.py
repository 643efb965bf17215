#!/usr/bin/python3
"""Trains foreshock's disk failure risk model (gradient-boosted trees) on Backblaze data and
compiles it into C++ source (health/risk_model_coefficients.h, committed, no runtime dependency).

Data: --data DIR holds failed_drives.csv and healthy_drives*.csv.gz (Backblaze Drive Stats,
Seagate ST4000DM000, 2018-01..09). The committed model was trained on the team's full set
(336 failed + 10,000 healthy drives, kept outside the repository; see docs/prediction.md "Data");
the repository carries a CI slice in tests/fixtures/data/backblaze/ST4000DM000-2018 (all failed
drives, first 1,500 healthy ones), which trains a different (weaker) model.

Honest protocol (docs/prediction.md):
  * split by drive: only the training half (CRC-32 of the serial is even) is used to fit and
    to choose the operating point; the other half is reported on, never tuned on;
  * split by time: only days 2018-01-01..05-31 are used for fitting;
  * label: the drive fails within the next 30 days (failure day included); every positive row
    and a deterministic 10 % of the negative rows (hash of serial and day) are fitted;
  * operating point: 3-fold cross-validation by drive on the training half gives each training
    drive-day an out-of-fold score; the warning threshold is the lowest at which at most
    --max-false-alarm of the healthy training drives were ever alarmed in January-May
    (1 % x 5/9: the goal's 1 % per 9 months, pro rata for 5 months), critical likewise at
    --critical-false-alarm;
  * the report (--report) shows, on the held-out half: failed drives of June-September alarmed
    at least one day before failing, healthy drives ever alarmed in the 9 months, lead times,
    at several thresholds (the curve), beside the rules raw-nonzero and increase-7d.

Deterministic: fixed seeds, one thread, no early stopping; the same data gives a byte-identical
header. Also writes --fixture: real drives' rows with the Python features and scores, which the
C++ unit test replays through the agent's history and model (tests/unit/health/risk_model/).

Usage: tools/train_risk_model.py --data DIR [--out FILE] [--fixture FILE] [--report FILE]
       [--cache-dir /tmp/foreshock-risk-cache]
Needs Debian python3-numpy python3-pandas python3-sklearn (>= 1.2).
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # deterministic and kind to a shared machine

import argparse  # noqa: E402
import glob  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import risk_features as rf  # noqa: E402
from risk_stats import wilson  # noqa: E402

TRAIN_END_DAY = int((np.datetime64("2018-06-01") - np.datetime64("1970-01-01")).astype(int))
HORIZON_DAYS = 30
PARAMS = dict(max_depth=3, max_iter=150, learning_rate=0.1, min_samples_leaf=20,
              early_stopping=False, random_state=0)
# Error counters and their increases may only raise the risk (monotonic constraints).
MONOTONIC = [1] * len(rf.FEATURES)
FOLDS = 3
NEGATIVE_SAMPLE = 10  # keep 1 negative row in 10
# Fixture drives (real serials of the data set): failed drives whose counters grow in
# different ways, healthy ones with a standing 188 or a missing reading.
FIXTURE_FAILED = 4
FIXTURE_HEALTHY = 3


class Split:
    """Drive and time split and per-row bookkeeping for one loaded data set."""

    def __init__(self, df):
        self.codes, self.uniq = pd.factorize(df["serial_number"])
        crc = np.array([zlib.crc32(s.encode()) for s in self.uniq], dtype=np.int64)
        self.train_half = (crc % 2 == 0)[self.codes]
        self.fold = ((crc // 2) % FOLDS)[self.codes]
        self.day = df["day"].to_numpy()
        fail_day = df[df["failure"] == 1].groupby("serial_number")["day"].min()
        self.fail_day = df["serial_number"].map(fail_day).to_numpy(dtype=np.float64)
        self.failed = ~np.isnan(self.fail_day)
        self.train = self.train_half & (self.day < TRAIN_END_DAY)
        self.sample = (crc[self.codes] + self.day * 7919) % NEGATIVE_SAMPLE == 0


def fit(X, y):
    m = HistGradientBoostingClassifier(monotonic_cst=MONOTONIC, **PARAMS)
    m.fit(X, y)
    return m


def healthy_threshold(score, mask, sp, frac):
    """Lowest threshold at which at most frac of the healthy drives in mask ever reach it."""
    m = mask & ~sp.failed
    per_drive = np.sort(pd.Series(score[m]).groupby(sp.codes[m]).max().to_numpy())[::-1]
    k = int(math.floor(frac * len(per_drive)))
    return float(np.nextafter(per_drive[k], 1.0))


def bootstrap_median(xs, reps=2000, seed=7):
    if len(xs) < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    xs = np.asarray(xs, dtype=np.float64)
    meds = np.sort(np.median(rng.choice(xs, size=(reps, len(xs)), replace=True), axis=1))
    return (float(meds[int(0.025 * reps)]), float(meds[int(0.975 * reps) - 1]))


def drive_outcome(alarm, mask, sp, fail_from, fail_to):
    """alarm: bool per row. Failed drives of mask failing in [fail_from, fail_to]: detected when
    the first alarm is >= 1 day before the failure day; healthy drives of mask: ever alarmed."""
    m = mask
    first = pd.Series(np.where(alarm[m], sp.day[m], np.iinfo(np.int64).max)).groupby(
        sp.codes[m]).min()
    fail = pd.Series(sp.fail_day[m]).groupby(sp.codes[m]).first()
    f = fail[(fail >= fail_from) & (fail <= fail_to)]
    lead = (f - first.reindex(f.index)).to_numpy()
    leads = lead[lead >= 1]
    h = fail[fail.isna()]
    fa = int((first.reindex(h.index) < np.iinfo(np.int64).max).sum())
    return {"failed": len(f), "detected": len(leads), "leads": leads, "healthy": len(h),
            "false_alarms": fa}


def fmt_outcome(o):
    det = o["detected"] / o["failed"] if o["failed"] else float("nan")
    dci = wilson(o["detected"], o["failed"])
    far = o["false_alarms"] / o["healthy"] if o["healthy"] else float("nan")
    fci = wilson(o["false_alarms"], o["healthy"])
    if len(o["leads"]):
        lci = bootstrap_median(o["leads"])
        lead = f"{np.median(o['leads']):.0f} [{lci[0]:.0f}-{lci[1]:.0f}]"
    else:
        lead = "n/a"
    return (f"{100 * det:.1f}% [{100 * dci[0]:.1f}-{100 * dci[1]:.1f}] ({o['detected']}/{o['failed']}) | "
            f"{100 * far:.2f}% [{100 * fci[0]:.2f}-{100 * fci[1]:.2f}] ({o['false_alarms']}/{o['healthy']}) | {lead}")


def export_trees(model):
    """Flattened nodes of every tree, children as global indices; roots[i] = first node of
    tree i. Checks the export against sklearn's own prediction."""
    nodes, roots = [], []
    for (pred,) in model._predictors:
        base = len(nodes)
        roots.append(base)
        for n in pred.nodes:
            if n["is_categorical"]:
                raise SystemExit("categorical split: not supported by the C++ export")
            if n["is_leaf"]:
                nodes.append((-1, 0.0, False, 0, 0, float(n["value"])))
            else:
                nodes.append((int(n["feature_idx"]), float(n["num_threshold"]),
                              bool(n["missing_go_to_left"]), base + int(n["left"]),
                              base + int(n["right"]), 0.0))
    return nodes, roots, float(np.asarray(model._baseline_prediction).ravel()[0])


def score_exported(X, nodes, roots, baseline):
    """The C++ scoring (health/risk_model.cc riskScore) in numpy, from the exported arrays."""
    raw = np.full(len(X), baseline)
    feat = np.array([n[0] for n in nodes])
    thr = np.array([n[1] for n in nodes])
    miss_left = np.array([n[2] for n in nodes])
    left = np.array([n[3] for n in nodes])
    right = np.array([n[4] for n in nodes])
    value = np.array([n[5] for n in nodes])
    rows = np.arange(len(X))
    for r in roots:
        at = np.full(len(X), r)
        while True:
            inner = feat[at] >= 0
            if not inner.any():
                break
            f = np.where(inner, feat[at], 0)
            x = X[rows, f]
            go_left = np.where(np.isnan(x), miss_left[at], x <= thr[at])
            at = np.where(inner, np.where(go_left, left[at], right[at]), at)
        raw = raw + value[at]
    return 1.0 / (1.0 + np.exp(-raw))


def write_header(path, nodes, roots, baseline, warn, crit, args):
    lines = [
        "// GENERATED by tools/train_risk_model.py (Backblaze ST4000DM000 2018, training half of",
        "// the drives, 2018-01-01..2018-05-31). Do not edit; re-run the script (docs/prediction.md).",
        f"// Gradient-boosted trees ({len(roots)} trees, depth <= {PARAMS['max_depth']}): risk = 1 / (1 + exp(-(kBaseline +",
        "// sum over trees of the leaf reached))). At an inner node, go left when the feature is",
        "// <= threshold, or when it is NaN (missing) and missing_left is set.",
        "#pragma once",
        "",
        "#include <array>",
        "#include <cstddef>",
        "#include <cstdint>",
        "#include <string_view>",
        "",
        "namespace foreshock::risk_coefficients {",
        "",
        f"inline constexpr std::size_t kFeatureCount = {len(rf.FEATURES)};",
        "inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {",
    ]
    lines += [f'    "{n}",' for n in rf.FEATURES]
    lines += [
        "};",
        "",
        "// feature < 0: a leaf with `value`; else an inner node.",
        "struct TreeNode {",
        "  std::int16_t feature;",
        "  bool missing_left;",
        "  std::uint16_t left;",
        "  std::uint16_t right;",
        "  double threshold;",
        "  double value;",
        "};",
        "",
        f"inline constexpr double kBaseline = {baseline!r};",
        f"inline constexpr std::array<std::uint16_t, {len(roots)}> kTreeRoots = {{",
    ]
    lines += ["    " + ", ".join(str(r) for r in roots[i:i + 12]) + "," for i in range(0, len(roots), 12)]
    lines += ["};", f"inline constexpr std::array<TreeNode, {len(nodes)}> kNodes = {{{{"]
    for f, t, ml, lft, rgt, v in nodes:
        lines.append(f"    {{{f}, {'true' if ml else 'false'}, {lft}, {rgt}, {t!r}, {v!r}}},")
    lines += [
        "}};",
        "",
        "// Risk at or above which the \"disk will fail\" finding is raised (warning): at most",
        f"// {args.max_false_alarm:.2%} of the healthy training drives ever reached it in Jan-May (out-of-fold scores).",
        f"inline constexpr double kWarningThreshold = {warn!r};",
        f"// Critical: at most {args.critical_false_alarm:.2%} of the healthy training drives.",
        f"inline constexpr double kCriticalThreshold = {crit!r};",
        "",
        "}  // namespace foreshock::risk_coefficients",
        "",
    ]
    if len(nodes) >= 65535:
        raise SystemExit("too many nodes for uint16 indices")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    here = os.path.dirname(os.path.abspath(__file__))
    if shutil.which("clang-format"):  # the committed header is in the project's format
        subprocess.run(["clang-format", "-i", "--style=file", path], check=True,
                       cwd=os.path.join(here, ".."))


def write_fixture(path, df, Xf, score, sp, rng_seed=11):
    """Every row of a few real drives: inputs, Python features and score."""
    rng = np.random.default_rng(rng_seed)
    train_drive = pd.Series(sp.train_half).groupby(sp.codes).first()
    growing = pd.Series(Xf[:, rf.FEATURES.index("smart_5_increase_30d")] +
                        Xf[:, rf.FEATURES.index("smart_197_increase_30d")] > 0).groupby(sp.codes).any()
    has188 = pd.Series(np.nan_to_num(Xf[:, rf.FEATURES.index("smart_188_raw")]) > 0).groupby(sp.codes).any()
    has_nan = pd.Series(np.isnan(Xf).any(axis=1)).groupby(sp.codes).any()
    failed = pd.Series(sp.failed).groupby(sp.codes).first()
    test = ~train_drive  # held-out drives: the C++ check is not on what the model was fitted on
    pick = []
    for cand, n in [(failed & growing & test, FIXTURE_FAILED), (~failed & has188 & test, 1),
                    (~failed & has_nan & test, 1), (~failed & ~growing & test, 1)]:
        idx = np.flatnonzero(cand.to_numpy())
        if len(idx):
            pick += list(rng.choice(idx, size=min(n, len(idx)), replace=False))
    rows = np.isin(sp.codes, pick)
    out = df.loc[rows, ["serial_number", "date"] + [f"smart_{a}_raw" for a in rf.COUNTERS]].copy()

    def g(v):
        return "" if np.isnan(v) else repr(float(v))
    with open(path, "w") as f:
        f.write("# Real Backblaze ST4000DM000 drives (held-out half; Backblaze Drive Stats, see\n"
                "# tests/fixtures/data/SOURCES.md) with the features and risk computed by\n"
                "# tools/risk_features.py and the exported trees. GENERATED by\n"
                "# tools/train_risk_model.py; health_test replays the rows through the agent's\n"
                "# history and model and compares.\n")
        f.write(",".join(["serial_number", "date"] + [f"smart_{a}_raw" for a in rf.COUNTERS] +
                         [f"feature:{n}" for n in rf.FEATURES] + ["risk"]) + "\n")
        for (_, r), x, s in zip(out.iterrows(), Xf[rows], score[rows]):
            vals = [r["serial_number"], r["date"]] + [g(r[f"smart_{a}_raw"]) for a in rf.COUNTERS]
            vals += [g(v) for v in x] + [repr(float(s))]
            f.write(",".join(vals) + "\n")
    return len(pick), int(rows.sum())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True,
                    help="folder with failed_drives.csv and healthy_drives*.csv.gz")
    ap.add_argument("--out", default=os.path.join(here, "..", "health", "risk_model_coefficients.h"))
    ap.add_argument("--fixture", default=os.path.join(here, "..", "tests", "fixtures", "risk_model",
                                                      "drives.csv"))
    ap.add_argument("--report", help="markdown file for the held-out evaluation (the curve)")
    ap.add_argument("--cache-dir", default="/tmp/foreshock-risk-cache")
    ap.add_argument("--max-false-alarm", type=float, default=0.01 * 5 / 9,
                    help="fraction of healthy training drives allowed to alarm in Jan-May")
    ap.add_argument("--critical-false-alarm", type=float, default=0.001,
                    help="fraction for the higher, critical operating point")
    args = ap.parse_args()

    healthy = sorted(glob.glob(os.path.join(args.data, "healthy_drives*.csv.gz")))
    failed = os.path.join(args.data, "failed_drives.csv")
    if not healthy or not os.path.exists(failed):
        sys.exit(f"{args.data}: needs failed_drives.csv and healthy_drives*.csv.gz")
    df, Xall = rf.load_features_cached([failed] + healthy, args.cache_dir)
    X = Xall[:, rf.columns(rf.FEATURES)]
    sp = Split(df)
    y = rf.labels(df, HORIZON_DAYS)
    fitted = sp.train & ((y == 1) | sp.sample)

    # Out-of-fold scores of the training half for the operating point.
    oof = np.full(len(df), np.nan)
    for k in range(FOLDS):
        m = fit(X[fitted & (sp.fold != k)], y[fitted & (sp.fold != k)])
        part = sp.train & (sp.fold == k)
        oof[part] = m.predict_proba(X[part])[:, 1]
    warn = healthy_threshold(oof, sp.train, sp, args.max_false_alarm)
    crit = max(warn, healthy_threshold(oof, sp.train, sp, args.critical_false_alarm))
    tr = drive_outcome(oof >= warn, sp.train, sp, 0, TRAIN_END_DAY - 1)
    print(f"training rows fitted {int(fitted.sum())} (positives {int(y[fitted].sum())}); "
          f"operating point warning {warn:.6f} critical {crit:.6f}; out-of-fold on the training "
          f"half Jan-May: {tr['detected']}/{tr['failed']} failed drives alarmed >= 1 d ahead, "
          f"{tr['false_alarms']}/{tr['healthy']} healthy alarmed", file=sys.stderr)

    model = fit(X[fitted], y[fitted])
    nodes, roots, baseline = export_trees(model)
    score = score_exported(X, nodes, roots, baseline)
    ref = model.predict_proba(X)[:, 1]
    err = float(np.max(np.abs(score - ref)))
    if err > 1e-12:
        sys.exit(f"exported trees disagree with sklearn by {err}")
    write_header(args.out, nodes, roots, baseline, warn, crit, args)
    print(f"wrote {args.out}: {len(roots)} trees, {len(nodes)} nodes", file=sys.stderr)
    if args.fixture:
        os.makedirs(os.path.dirname(os.path.abspath(args.fixture)), exist_ok=True)
        nd, nr = write_fixture(args.fixture, df, X, score, sp)
        print(f"wrote {args.fixture}: {nd} drives, {nr} rows", file=sys.stderr)

    if args.report:
        write_report(args.report, df, Xall, score, oof, sp, warn, crit, args)


def write_report(path, df, Xall, score, oof, sp, warn, crit, args):
    test = ~sp.train_half
    c = {n: Xall[:, i] for i, n in enumerate(rf.CANDIDATES)}
    inc7 = np.zeros(len(df), dtype=bool)
    raw = np.zeros(len(df), dtype=bool)
    for a in ["5", "187", "197", "198"]:
        inc7 |= c[f"smart_{a}_increase_7d"] > 0
    for a in rf.COUNTERS:
        raw |= np.nan_to_num(c[f"smart_{a}_raw"]) > 0
    head = ("| method | threshold | chosen on training (max healthy alarmed Jan-May) | failed Jun-Sep "
            "alarmed >= 1 d before [95% CI] | healthy alarmed in 9 months [95% CI] | median lead "
            "days [95% CI] |\n|---|---|---|---|---|---|")
    lines = [head]
    budgets = [0.0005, 0.001, 0.0025, args.max_false_alarm, 0.01, 0.02, 0.05]
    for b in budgets:
        t = healthy_threshold(oof, sp.train, sp, b)
        o = drive_outcome(score >= t, test, sp, TRAIN_END_DAY, 10 ** 9)
        tag = " (warning)" if t == warn else (" (critical)" if t == crit else "")
        lines.append(f"| trees | {t:.4f}{tag} | {100 * b:.2f}% | {fmt_outcome(o)} |")
    for name, alarm in [("rule: 7-day increase of 5/187/197/198", inc7),
                        ("rule: raw 5/187/188/197/198 > 0", raw)]:
        o = drive_outcome(alarm, test, sp, TRAIN_END_DAY, 10 ** 9)
        lines.append(f"| {name} | - | - | {fmt_outcome(o)} |")
    text = ("Held-out half of the drives (odd CRC-32 of the serial); failures of June-September "
            "(after the training period); healthy drives alarmed on any day of January-September.\n\n"
            + "\n".join(lines) + "\n")
    with open(path, "w") as f:
        f.write(text)
    print(text, file=sys.stderr)


if __name__ == "__main__":
    main()
