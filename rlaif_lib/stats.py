"""The one statistic every table of the kit carries: a mean with a bootstrap 95% interval."""
from __future__ import annotations

import numpy as np


def bootstrap_mean(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Mean of `values` (e.g. 1/0 wins, or 1/0.5/0 with ties) with a percentile bootstrap interval.
    Returns {value, ci_low, ci_high, n}; an empty input gives NaNs and n = 0."""
    x = np.asarray(list(values), dtype=float)
    if x.size == 0:
        return {"value": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"value": float(x.mean()), "ci_low": float(lo), "ci_high": float(hi), "n": int(x.size)}
