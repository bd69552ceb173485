"""The toy world beside OpenAI's real comparisons: the same measures by the same functions on both sides."""
import pytest

from rlaif_lib.experiments import fidelity
from rlaif_lib.method.labeling.baselines import longer_wins


def pair(a: str, b: str, choice: int) -> dict:
    return {"id": f"p-{a}-{b}", "post": "a post", "summary_a": a, "summary_b": b, "choice": choice}


def test_longer_wins_counts_only_pairs_of_different_lengths():
    pairs = [pair("a long one", "short", 0), pair("short", "a long one", 1), pair("short", "a long one", 0),
             pair("same", "size", 0)]
    result = longer_wins(pairs)
    assert result["n"] == 3 and result["value"] == pytest.approx(2 / 3)


def test_toy_side_reads_a_runs_metrics_and_says_what_it_lacks():
    ci = {"value": 0.6, "ci_low": 0.5, "ci_high": 0.7, "n": 80}
    metrics = {"preset": "tiny", "human_longer_wins": {"value": 0.4, "ci_low": 0.35, "ci_high": 0.45, "n": 300},
               "human_rater_agreement": 0.75, "human_rater_agreement_n": 300,
               "labeler": {"alignment_ci": ci, "baselines": {"random": 0.5, "longer_wins": ci, "minilm_similarity": ci}},
               "win_rate": {"rlhf_vs_sft": ci}, "mean_words": {"sft": 20.0, "rlhf": 15.0}}
    toy = fidelity.toy_side(metrics)
    assert toy["two raters agree"]["n"] == 300 and toy["two raters agree"]["value"] == 0.75
    assert toy["RL policy's length / SFT's"] == pytest.approx(0.75)
    real = {key: 0.5 for key in fidelity.MEASURES}
    table = fidelity.fidelity_table(metrics, real)
    assert "0.75x" in table and "40.0% [35.0, 45.0], n=300" in table and "SIMULATED" in table
    assert fidelity.fidelity_table({"preset": "tiny"}, real).count("n/a") == len(fidelity.MEASURES) - 1  # coin flip


def rounded(value):
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return round(value, 6) if isinstance(value, float) else value


def test_the_committed_real_side_is_what_the_code_measures():
    """The committed real side (PRECOMPUTED) equals a fresh measurement on the shipped data and labels."""
    committed = fidelity.load_real()
    fresh = fidelity.real_side()
    assert rounded({k: v for k, v in committed.items() if k != "measured"}) == rounded(fresh)
    assert committed["two raters agree"]["n"] == 773 and round(committed["two raters agree"]["value"], 3) == 0.726
    assert committed["human win rate, RL policy vs SFT"]["n"] == 1097
