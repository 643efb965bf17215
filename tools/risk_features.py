"""Features of the disk failure risk model, shared by the training script and the tests.

The C++ side (health/risk_model.cc) computes the same features from the history store; keep
the two in step (the names and order below are compiled into health/risk_model_coefficients.h).

Backblaze daily rows -> one feature vector per drive-day:
  log1p of the raw counters 5, 187, 188, 197, 198,
  log1p of their increase over the last 7 days (5, 187, 197, 198): the sum of the positive
  day-to-day steps whose later point lies in (t - 7 days, t] (a drop is not an increase, so
  a counter reset or a remapped pending sector never looks like growth),
  age in years (attribute 9, power-on hours / 8760) and temperature (194, Celsius).
"""
import zlib

import numpy as np
import pandas as pd

COUNTERS = ["5", "187", "188", "197", "198"]
INCREASE = ["5", "187", "197", "198"]
FEATURES = ([f"log1p_smart_{a}_raw" for a in COUNTERS] +
            [f"log1p_smart_{a}_increase_7d" for a in INCREASE] +
            ["age_years", "temperature_celsius"])
WINDOW_DAYS = 7
HORIZON_DAYS = 30


def drive_in_training_half(serial):
    """Split by drive: CRC-32 of the serial, even = training half (the C++ replay is unaware)."""
    return zlib.crc32(serial.encode()) % 2 == 0


def load(paths):
    cols = ["serial_number", "date", "failure", "smart_5_raw", "smart_9_raw", "smart_187_raw",
            "smart_188_raw", "smart_194_raw", "smart_197_raw", "smart_198_raw"]
    frames = []
    for p in paths:
        df = pd.read_csv(p, usecols=lambda c: c in cols, dtype={"serial_number": str})
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["day"] = (pd.to_datetime(df["date"]) - pd.Timestamp("1970-01-01")).dt.days.astype(np.int64)
    df = df.sort_values(["serial_number", "day"], kind="stable").reset_index(drop=True)
    return df


def features(df):
    """Adds the FEATURES columns; df must be sorted by (serial_number, day)."""
    serial_codes, _ = pd.factorize(df["serial_number"])
    day = df["day"].to_numpy()
    key = serial_codes.astype(np.int64) * 1_000_000 + day
    start = np.r_[0, np.flatnonzero(np.diff(serial_codes)) + 1]
    group_start = np.repeat(start, np.diff(np.r_[start, len(df)]))
    for a in COUNTERS:
        df[f"log1p_smart_{a}_raw"] = np.log1p(df[f"smart_{a}_raw"].fillna(0).clip(lower=0))
    # Rows whose point lies at or before t - 7 days end the window: inc = C(t) - C(prev).
    prev = np.searchsorted(key, key - WINDOW_DAYS, side="right") - 1
    for a in INCREASE:
        v = df[f"smart_{a}_raw"].ffill().fillna(0).to_numpy(dtype=np.float64)
        step = np.diff(v, prepend=v[0])
        step[start] = 0.0
        step = np.clip(step, 0, None)
        c = np.cumsum(step)
        base = np.where(prev >= group_start, c[np.maximum(prev, 0)], c[group_start])
        df[f"log1p_smart_{a}_increase_7d"] = np.log1p(c - base)
    df["age_years"] = df["smart_9_raw"].fillna(0) / 8760.0
    df["temperature_celsius"] = df["smart_194_raw"]
    return df


def labels(df):
    """1 on the days within HORIZON_DAYS before (and on) a drive's failure day."""
    fail_day = df[df["failure"] == 1].groupby("serial_number")["day"].min()
    fd = df["serial_number"].map(fail_day)
    return ((fd - df["day"] >= 0) & (fd - df["day"] < HORIZON_DAYS)).astype(int).to_numpy()
