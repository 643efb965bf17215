"""Statistics shared by the risk model's training and evaluation scripts (stdlib only, so
tools/evaluate_replay.py keeps running without numpy)."""
import math


def wilson(k, n, z=1.96):
    """95 % (z = 1.96) Wilson score interval (low, high) of the proportion k / n; NaNs when n = 0."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))
