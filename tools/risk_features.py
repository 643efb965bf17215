"""Features of the disk failure risk model, shared by the training script and the tests.

The C++ side (health/risk_model.cc) computes the model's features (FEATURES) from the agent's
history store; keep the two in step. The names and their order are compiled into
health/risk_model_coefficients.h, and tests/unit/health/risk_model/ checks that the C++ features
and scores of real drives equal the ones computed here (fixture written by
tools/train_risk_model.py).

Backblaze daily rows of one drive, in date order -> one vector of CANDIDATES per drive-day (the
features that were tried; FEATURES is the subset the model uses, see docs/prediction.md for
why). Every feature is NaN when its input is missing (the trees route missing values):

  smart_A_raw              raw value of attribute A today, A in 5, 187, 188, 197, 198, 193
                           (the error counters and the load/unload cycle count);
  smart_A_increase_Nd      increase of A over the last N days (N = 7, 30; A in 5, 187, 188,
                           197, 198): the sum of the positive steps between consecutive readings
                           whose later reading lies in (t - N days, t]; a drop is never an
                           increase (a pending sector remapped, a counter reset); 0 with fewer
                           than two readings;
  smart_A_increase_30d     also for A in 193, 241, 242 (load cycles, LBAs written and read over
                           30 days: the workload);
  age_years                attribute 9 (power-on hours) / 8760;
  temperature_celsius      attribute 194 (Celsius on the drives the model was trained on).
"""
import hashlib
import inspect
import os
import pickle
import zlib

import numpy as np
import pandas as pd

RAW = ["5", "187", "188", "197", "198", "193"]
INCREASE = [("5", 7), ("187", 7), ("188", 7), ("197", 7), ("198", 7),
            ("5", 30), ("187", 30), ("188", 30), ("197", 30), ("198", 30),
            ("193", 30), ("241", 30), ("242", 30)]
CANDIDATES = ([f"smart_{a}_raw" for a in RAW] +
              [f"smart_{a}_increase_{n}d" for a, n in INCREASE] +
              ["age_years", "temperature_celsius"])
# The model's features: the five error counters, their 7- and 30-day increases (chosen by
# cross-validation on the training half, tools/select_risk_model.py).
COUNTERS = ["5", "187", "188", "197", "198"]
FEATURES = ([f"smart_{a}_raw" for a in COUNTERS] +
            [f"smart_{a}_increase_{n}d" for n in (7, 30) for a in COUNTERS])
COLUMNS = ["serial_number", "date", "model", "failure"] + [
    f"smart_{a}_raw" for a in ["5", "9", "187", "188", "193", "194", "197", "198", "241", "242"]]


def drive_in_training_half(serial):
    """Split by drive: CRC-32 of the serial, even = training half (the C++ replay is unaware)."""
    return zlib.crc32(serial.encode()) % 2 == 0


def load(paths):
    """Reads Backblaze daily CSVs (plain or gzip); sorted by (serial_number, day); a duplicated
    day keeps the last row, as `foreshock replay` does."""
    frames = []
    for p in paths:
        df = pd.read_csv(p, usecols=lambda c: c in COLUMNS, dtype={"serial_number": str})
        for c in COLUMNS:
            if c not in df.columns:
                df[c] = np.nan
        frames.append(df[COLUMNS])
    df = pd.concat(frames, ignore_index=True)
    df["day"] = (pd.to_datetime(df["date"]) - pd.Timestamp("1970-01-01")).dt.days.astype(np.int64)
    df = df.sort_values(["serial_number", "day"], kind="stable")
    df = df[~df.duplicated(["serial_number", "day"], keep="last")].reset_index(drop=True)
    return df


def _increase(values, group_start):
    """Cumulative sum (over all rows) of the positive steps between consecutive non-NaN readings
    of the same drive, and the steps."""
    n = len(values)
    valid = ~np.isnan(values)
    idx = np.where(valid, np.arange(n), -1)
    idx = np.maximum.accumulate(idx)  # last valid row at or before each row (any drive)
    prev_idx = np.r_[-1, idx[:-1]]     # last valid row strictly before
    has_prev = valid & (prev_idx >= group_start)
    step = np.zeros(n)
    step[has_prev] = values[has_prev] - values[prev_idx[has_prev]]
    step = np.clip(step, 0, None)
    c = np.cumsum(step)
    return c, step


def _drive_index(df):
    """(drive code, day, first row of the row's drive, sort key drive*1e6+day) per row of df
    sorted by (serial_number, day)."""
    codes, _ = pd.factorize(df["serial_number"])
    day = df["day"].to_numpy(dtype=np.int64)
    start = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    group_start = np.repeat(start, np.diff(np.r_[start, len(df)]))
    return codes, day, group_start, codes.astype(np.int64) * 1_000_000 + day


def features(df):
    """Returns a float64 array (rows of df, CANDIDATES); df sorted by (serial_number, day)."""
    codes, day, group_start, key = _drive_index(df)
    n = len(df)
    out = np.empty((n, len(CANDIDATES)))
    col = 0
    for a in RAW:
        out[:, col] = df[f"smart_{a}_raw"].to_numpy(dtype=np.float64)
        col += 1
    cache = {}
    for a, w in INCREASE:
        if a not in cache:
            cache[a] = _increase(df[f"smart_{a}_raw"].to_numpy(dtype=np.float64), group_start)
        c, _ = cache[a]
        # Last row of the same drive whose day <= day - w: steps after it are in the window.
        prev = np.searchsorted(key, key - w, side="right") - 1
        base = np.where(prev >= group_start, c[np.maximum(prev, 0)], c[group_start])
        out[:, col] = c - base
        col += 1
    out[:, col] = df["smart_9_raw"].to_numpy(dtype=np.float64) / 8760.0
    out[:, col + 1] = df["smart_194_raw"].to_numpy(dtype=np.float64)
    assert col + 2 == len(CANDIDATES)
    return out


def _window_start(key, group_start, w):
    """Per row: first row of the same drive whose day lies in (day - w, day]."""
    return np.maximum(np.searchsorted(key, key - w, side="right"), group_start)


def _window_max(values, key, w):
    """Per row: the largest of values (>= 0, mostly 0) over the same drive's rows in
    (day - w, day]; 0 when none is positive."""
    out = np.zeros(len(values))
    nz = np.flatnonzero(values > 0)
    end = np.searchsorted(key, key[nz] + w, side="left")  # first row with day >= day_i + w
    lens = end - nz
    rows = np.repeat(nz, lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    np.maximum.at(out, rows, np.repeat(values[nz], lens))
    return out


# Features tried in the second round of model selection (docs/prediction.md, "Second round"),
# by group; none is used by the model, so the C++ side does not compute them.
ERRORS = ["5", "187", "197", "198"]  # the counters of the 7-day rule


def history_candidates(df):
    """More features of each drive-day, from its history (df sorted by serial_number, day):
    {group name: {feature name: float64 array}}.

      days with an increase     readings in (t - 30 d, t] at which any of 5/187/197/198 grew;
      largest single step       smart_A_max_step_30d: the largest positive step of A between
                                consecutive readings in (t - 30 d, t] (A: the five counters);
      days since first error    days since the drive's first reading with any of 5/187/197/198
                                above zero, at most 90 (the agent keeps 90 days); -1 if none;
      188 decoded               Seagate packs 188: the low 16 bits are the count; raw mod 65536
                                and its 7- and 30-day increases;
      error sum                 5+187+197+198 (missing counted as 0) and its 7/30-day increases;
      3/14/90-day increases     smart_A_increase_Nd of the five counters, as in features().
    """
    codes, day, group_start, key = _drive_index(df)
    n = len(df)
    rows = np.arange(n)
    raw = {a: df[f"smart_{a}_raw"].to_numpy(dtype=np.float64) for a in COUNTERS}
    steps = {a: _increase(raw[a], group_start)[1] for a in COUNTERS}

    def window_sum(values, w):
        c = np.r_[0, np.cumsum(values)]
        return c[rows + 1] - c[_window_start(key, group_start, w)]

    grew = np.zeros(n, dtype=bool)
    for a in ERRORS:
        grew |= steps[a] > 0
    nonzero = np.zeros(n, dtype=bool)
    for a in ERRORS:
        nonzero |= np.nan_to_num(raw[a]) > 0
    none = np.iinfo(np.int64).max
    first = pd.Series(np.where(nonzero, day, none)).groupby(codes).cummin().to_numpy()
    low16 = np.where(np.isnan(raw["188"]), np.nan, np.mod(raw["188"], 65536))
    low16_steps = _increase(low16, group_start)[1]
    errors = sum(np.nan_to_num(raw[a]) for a in ERRORS)
    return {
        "days with an increase": {"days_with_error_increase_30d": window_sum(grew.astype(float), 30)},
        "largest single step": {f"smart_{a}_max_step_30d": _window_max(steps[a], key, 30)
                                for a in COUNTERS},
        "days since first error": {"days_since_first_error": np.where(
            first < none, np.minimum(day - first, 90), -1).astype(np.float64)},
        "188 decoded": {"smart_188_low16": low16,
                        "smart_188_low16_increase_7d": window_sum(low16_steps, 7),
                        "smart_188_low16_increase_30d": window_sum(low16_steps, 30)},
        "error sum": {"errors_raw": errors,
                      "errors_increase_7d": sum(window_sum(steps[a], 7) for a in ERRORS),
                      "errors_increase_30d": sum(window_sum(steps[a], 30) for a in ERRORS)},
        "3/14/90-day increases": {f"smart_{a}_increase_{w}d": window_sum(steps[a], w)
                                  for w in (3, 14, 90) for a in COUNTERS},
    }


def columns(names):
    """Indices of names in CANDIDATES."""
    return [CANDIDATES.index(n) for n in names]


def labels(df, horizon_days):
    """1 on the days within horizon_days before a drive's failure day (failure day included)."""
    fail_day = df[df["failure"] == 1].groupby("serial_number")["day"].min()
    fd = df["serial_number"].map(fail_day)
    return ((fd - df["day"] >= 0) & (fd - df["day"] < horizon_days)).astype(int).to_numpy()


def load_features_cached(paths, cache_dir):
    """(df, X): loaded rows and their features, cached in cache_dir keyed by the files' size,
    mtime and the source of the loading and feature code (a change invalidates the cache)."""
    h = hashlib.sha256("".join(inspect.getsource(f) for f in (load, _increase, _drive_index,
                                                               features)).encode())
    h.update(repr((COLUMNS, RAW, INCREASE, CANDIDATES)).encode())
    for p in paths:
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}:{st.st_size}:{st.st_mtime_ns}".encode())
    path = os.path.join(cache_dir, f"risk-features-{h.hexdigest()[:16]}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    df = load(paths)
    X = features(df)
    os.makedirs(cache_dir, exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        pickle.dump((df, X), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)
    return df, X
