"""The statistics every table of the kit carries (a mean with a bootstrap 95% interval), how the kit prints
them, and the logistic fit of the length control and the labeler analysis."""
from __future__ import annotations

import math

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


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt_pct(x, digits: int = 1, unit: str = "%") -> str:
    """A fraction as a percentage: 0.546 -> "54.6%"; "n/a" for None, NaN or a non-number."""
    return f"{100 * x:.{digits}f}{unit}" if _finite(x) else "n/a"


def fmt_ci(d, value_key: str = "value", n: bool = True, wrap=None) -> str:
    """A {value, ci_low, ci_high, n} dict as "54.6% [51.3, 57.9], n=24" (bounds in percent, without the
    sign); "n/a" when `d` is empty or its value is missing. `value_key` names the value ("accuracy_human"
    for a reward model), `n=False` leaves the sample size out. `wrap(key, text)`, when given, returns
    what to print for each number (the slides tag each one with the metrics key it came from)."""
    wrap = wrap or (lambda key, text: text)
    if not isinstance(d, dict) or not _finite(d.get(value_key)):
        return "n/a"
    out = wrap(value_key, fmt_pct(d[value_key]))
    if _finite(d.get("ci_low")) and _finite(d.get("ci_high")):
        out += f" [{wrap('ci_low', fmt_pct(d['ci_low'], unit=''))}, {wrap('ci_high', fmt_pct(d['ci_high'], unit=''))}]"
    if n and _finite(d.get("n")):
        out += f", n={wrap('n', str(d['n']))}"
    return out
