"""The statistics every table of the kit carries: a mean with a bootstrap 95% interval, and a logistic fit."""
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


def fit_logistic(x, y, ridge: float = 1e-2, ridge_on_bias: bool = False, iters: int = 50) -> np.ndarray:
    """Weights [bias, w_1..w_k] of P(y=1) = sigmoid(bias + x @ w), by Newton's method with an L2
    ridge on w (and on the bias if `ridge_on_bias`); y may be soft, in [0, 1]; x is [n] or [n, k]."""
    X = np.column_stack([np.ones(len(x)), x])
    y = np.asarray(y, dtype=float)
    w = np.zeros(X.shape[1])
    reg = ridge * np.eye(X.shape[1])
    if not ridge_on_bias:
        reg[0, 0] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(X @ w, -30, 30)))
        step = np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X + reg + 1e-9 * np.eye(len(w)), X.T @ (p - y) + reg @ w)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w
