"""Bootstrap intervals and the win-rate helpers."""
import numpy as np
import pytest

from rlaif_lib.method.evaluate import length_controlled_win_rate, win_rate
from rlaif_lib.stats import bootstrap_mean


def test_bootstrap_mean_interval_brackets_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_mean(rng.random(50) < 0.7)
    large = bootstrap_mean(rng.random(5000) < 0.7)
    assert small["ci_low"] < small["value"] < small["ci_high"]
    assert (large["ci_high"] - large["ci_low"]) < (small["ci_high"] - small["ci_low"]) / 5
    assert large["ci_low"] < 0.7 < large["ci_high"] and large["n"] == 5000


def test_bootstrap_mean_empty():
    assert bootstrap_mean([])["n"] == 0


def test_win_rate_counts_ties_as_half():
    assert win_rate([1, 0, 0.5, 0.5])["value"] == pytest.approx(0.5)


def test_length_controlled_win_rate_removes_a_pure_length_effect():
    # A wins exactly when it is longer; at equal length it would win half the time.
    rng = np.random.default_rng(1)
    la, lb = rng.integers(5, 30, 400), rng.integers(5, 30, 400)
    keep = la != lb
    a = [" ".join(["w"] * n) for n in la[keep]]
    b = [" ".join(["w"] * n) for n in lb[keep]]
    prefs = (la[keep] > lb[keep]).astype(float)
    assert abs(length_controlled_win_rate(prefs, a, b) - 0.5) < 0.05
    # A quality edge that does not depend on length survives the control
    prefs2 = np.clip(1 / (1 + np.exp(-(np.log(la[keep] / lb[keep]) + 1.5))), 0, 1)
    assert length_controlled_win_rate(prefs2, a, b) > 0.75


def test_gold_score_summary_on_references_and_junk():
    from rlaif_lib import toy_world
    from rlaif_lib.method.evaluate import gold_preferences, gold_score_summary

    posts = toy_world.generate_posts(20, "eval", seed=0)
    refs = gold_score_summary(posts, [p.reference for p in posts])
    junk = gold_score_summary(posts, ["asdf qwer"] * 20)
    assert refs["value"] > 0.95 and junk["value"] < 0.1 and refs["n"] == 20
    prefs = gold_preferences(posts, [p.reference for p in posts], ["asdf qwer"] * 20)
    assert (prefs > 0.99).all()
