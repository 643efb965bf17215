#!/usr/bin/python3
"""Model selection for the disk risk model, on the training half only (never the held-out one).

For each candidate (feature set x label horizon), 3-fold cross-validation by drive on the
training half, January-May: out-of-fold scores, the threshold at which 0.56 % (and 1 %) of the
healthy training drives were ever alarmed, and how many failed training drives that threshold
alarms at least one day before failing. The winner is compiled by tools/train_risk_model.py.
Figures of the last run are in docs/prediction.md ("How the model was chosen").

Usage: tools/select_risk_model.py --data DIR [--cache-dir /tmp/foreshock-risk-cache]
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import risk_features as rf  # noqa: E402
import train_risk_model as tm  # noqa: E402

COUNTERS = [n for n in rf.CANDIDATES if n.split("_")[1] in rf.COUNTERS]
OLD = ([f"smart_{a}_raw" for a in rf.COUNTERS] +
       [f"smart_{a}_increase_7d" for a in ["5", "187", "197", "198"]] +
       ["age_years", "temperature_celsius"])
CANDIDATE_SETS = [
    ("the previous logistic model's inputs (counters, 7-day increases, age, temperature)", OLD),
    ("counters + 7/30-day increases", COUNTERS),
    ("counters + 7/30-day increases + age + temperature", COUNTERS + ["age_years", "temperature_celsius"]),
    ("all: + load cycles 193, 30-day workload 193/241/242", rf.CANDIDATES),
]
UNCONSTRAINED = ("age_years", "temperature_celsius", "smart_193", "smart_241", "smart_242")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--cache-dir", default="/tmp/foreshock-risk-cache")
    args = ap.parse_args()
    files = [os.path.join(args.data, "failed_drives.csv")] + sorted(
        glob.glob(os.path.join(args.data, "healthy_drives*.csv.gz")))
    df, Xall = rf.load_features_cached(files, args.cache_dir)
    sp = tm.Split(df)
    print("| features | horizon | out-of-fold, 0.56 % healthy: failed alarmed >= 1 d | median lead "
          "| 1 % healthy: failed alarmed | median lead |\n|---|---|---|---|---|---|")
    for name, feats in CANDIDATE_SETS:
        X = Xall[:, rf.columns(feats)]
        mono = [0 if f.startswith(UNCONSTRAINED) else 1 for f in feats]
        for horizon in (30, 90):
            y = rf.labels(df, horizon)
            fitted = sp.train & ((y == 1) | sp.sample)
            oof = np.full(len(df), np.nan)
            for k in range(tm.FOLDS):
                m = HistGradientBoostingClassifier(monotonic_cst=mono, **tm.PARAMS)
                m.fit(X[fitted & (sp.fold != k)], y[fitted & (sp.fold != k)])
                part = sp.train & (sp.fold == k)
                oof[part] = m.predict_proba(X[part])[:, 1]
            cells = []
            for budget in (0.01 * 5 / 9, 0.01):
                t = tm.healthy_threshold(oof, sp.train, sp, budget)
                o = tm.drive_outcome(oof >= t, sp.train, sp, 0, tm.TRAIN_END_DAY - 1)
                lead = f"{np.median(o['leads']):.0f}" if len(o["leads"]) else "n/a"
                cells += [f"{o['detected']}/{o['failed']}", lead]
            print(f"| {name} | {horizon} d | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
