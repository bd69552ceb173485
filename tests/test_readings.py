"""The sentences that state a run's results (rlaif_lib.readings): each one follows the numbers it
reads when they change, and the report prints the same sentences as the talk."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from rlaif_lib import paper, readings
from rlaif_lib.stats import fmt_ci, fmt_pct

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "run"


def _iv(lo, value, hi, n=100, key="value"):
    return {key: value, "ci_low": lo, "ci_high": hi, "n": n}


def _win(lo, value, hi, name="rlaif_vs_sft"):
    return {"win_rate": {name: _iv(lo, value, hi)}}


# ----------------------------------------------------------------------------- formatters
def test_percent_and_interval_formatters():
    assert fmt_pct(0.5464) == "54.6%" and fmt_pct(None) == "n/a" and fmt_pct(float("nan")) == "n/a"
    assert fmt_ci(_iv(0.513, 0.546, 0.579, n=24)) == "54.6% [51.3, 57.9], n=24"
    assert fmt_ci(_iv(0.513, 0.546, 0.579, n=24), n=False) == "54.6% [51.3, 57.9]"
    assert fmt_ci(_iv(0.4, 0.5, 0.6, key="accuracy_human"), "accuracy_human") == "50.0% [40.0, 60.0], n=100"
    assert fmt_ci({}) == fmt_ci(None) == "n/a"
    assert fmt_ci(_iv(0.4, 0.5, 0.6), wrap=lambda k, t: f"<{k}:{t}>") == "<value:50.0%> [<ci_low:40.0>, <ci_high:60.0>], n=<n:100>"


# ----------------------------------------------------------------------------- win rates
@pytest.mark.parametrize("iv, words, side", [
    ((0.513, 0.546, 0.579), "RLAIF beats SFT", "above"),
    ((0.30, 0.35, 0.40), "RLAIF loses to SFT", "below"),
    ((0.40, 0.51, 0.62), "RLAIF and SFT cannot be told apart at this n", "contains"),
    ((0.47, 0.50, 0.54), "RLAIF and SFT are about even", "contains"),
    ((0.50, 0.50, 0.50), "RLAIF and SFT tie on every post", "contains"),
])
def test_win_verdict_follows_the_interval(iv, words, side):
    verdict = readings.win_verdict(_win(*iv), "rlaif_vs_sft")
    assert verdict.startswith(words) and verdict.claim == f"rlaif_vs_sft:{side}"
    for other in ("beats", "loses", "cannot be told apart", "even", "tie"):
        assert (other in verdict) == (other in words), (other, verdict)


def test_even_only_when_the_interval_is_narrow():
    """Containing 50% is not evidence of equivalence: "about even" needs the interval inside 50% ± EVEN_MARGIN."""
    m = readings.EVEN_MARGIN
    narrow = readings.win_verdict(_win(0.5 - m, 0.5, 0.5 + m, "rlaif_vs_rlhf"), "rlaif_vs_rlhf")
    wide = readings.win_verdict(_win(0.5 - m - 0.01, 0.5, 0.5 + m, "rlaif_vs_rlhf"), "rlaif_vs_rlhf")
    assert "about even" in narrow and "about even" not in wide and "cannot be told apart" in wide
    assert narrow.claim == wide.claim == "rlaif_vs_rlhf:contains"


def test_win_reading_prints_the_interval_and_places_the_paper():
    p = paper.WIN_RATE["rlaif_vs_sft"] / 100
    inside = readings.win_reading(_win(p - 0.02, p, p + 0.02), "rlaif_vs_sft")
    below = readings.win_reading(_win(0.51, 0.55, 0.59), "rlaif_vs_sft")
    assert inside.startswith("RLAIF beats SFT: ") and fmt_ci(_iv(p - 0.02, p, p + 0.02)) in inside
    assert "lies above 50%" in inside and f"the paper's {paper.WIN_RATE['rlaif_vs_sft']}% is inside" in inside
    assert "55.0% [51.0, 59.0], n=100" in below and "is above this run's interval" in below
    assert "lies below 50%" in readings.win_reading(_win(0.2, 0.25, 0.3), "rlaif_vs_sft")
    assert "contains 50%" in readings.win_reading(_win(0.4, 0.5, 0.6), "rlaif_vs_sft")
    missing = readings.win_reading({}, "drlaif_vs_sft")
    assert missing == f"d-RLAIF vs SFT: {readings.NOT_MEASURED}." and missing.claim == ""


# ----------------------------------------------------------------------------- labeler and reward models
def test_alignment_reading_against_chance_and_baselines():
    def metrics(align, longer):
        return {"labeler": {"alignment_ci": _iv(*align), "baselines": {"random": 0.5, "longer_wins": _iv(*longer)}}}

    good = readings.alignment_reading(metrics((0.70, 0.75, 0.80), (0.40, 0.45, 0.50)))
    assert "more often than chance" in good and "it beats the longer-summary heuristic" in good
    assert good.claim == "alignment-above,longer_wins:above" and "75.0% [70.0, 80.0], n=100" in good
    poor = readings.alignment_reading(metrics((0.40, 0.48, 0.56), (0.60, 0.65, 0.70)))
    assert "coin flip" in poor and "the longer-summary heuristic beats it" in poor
    assert poor.claim == "alignment-contains,longer_wins:below"
    tied = readings.alignment_reading(metrics((0.52, 0.58, 0.64), (0.55, 0.60, 0.65)))
    assert "cannot be told apart from the longer-summary heuristic" in tied
    assert readings.alignment_reading({}).claim == ""


def test_rm_reading_against_chance_and_each_other():
    def metrics(ai, human):
        return {"reward_model": _iv(*ai, key="accuracy_human"), "reward_model_rlhf": _iv(*human, key="accuracy_human")}

    text = readings.rm_reading(metrics((0.45, 0.55, 0.65), (0.70, 0.75, 0.80)))
    assert "RLAIF's reward model (55.0% [45.0, 65.0], n=100) is not distinguishable from chance" in text
    assert "RLHF's reward model (75.0% [70.0, 80.0], n=100) is better than chance" in text
    assert "RLHF's is the more accurate" in text
    assert text.claim == "reward_model-contains,reward_model_rlhf-above,rlaif_vs_rlhf:below"
    both = readings.rm_reading(metrics((0.70, 0.74, 0.78), (0.72, 0.76, 0.80)))
    assert both.count("better than chance") == 2 and "the two cannot be told apart" in both
    worse = readings.rm_reading(metrics((0.30, 0.35, 0.40), (0.70, 0.75, 0.80)))
    assert "worse than chance" in worse
    only_ai = readings.rm_reading({"reward_model": _iv(0.6, 0.7, 0.8, key="accuracy_human")})
    assert f"RLHF's reward model: {readings.NOT_MEASURED}" in only_ai and "more accurate" not in only_ai


@pytest.mark.parametrize("pct", [10.0, 19.0, 40.0, 56.0, 95.0])
def test_position_reading_names_the_nearest_paper_labeler(pct):
    text = readings.position_reading({"labeler": {"same_position_pct": pct}})
    nearest = min(paper.SAME_POSITION, key=lambda k: abs(paper.SAME_POSITION[k] - pct))
    assert text.claim == f"nearest:{nearest}" and f"{pct:.1f}% of pairs" in text
    assert ("more position-bound than any" in text) == (pct > max(paper.SAME_POSITION.values()))


def test_techniques_reading_ranks_only_separated_intervals():
    row = {"preamble": "base", "shots": 0, "cot": False}
    overlap = [dict(row, **_iv(0.4, 0.5, 0.6, 16, "alignment")), dict(row, cot=True, **_iv(0.5, 0.6, 0.7, 16, "alignment"))]
    assert readings.techniques_reading(overlap).claim == "techniques-overlap" and "n=16" in readings.techniques_reading(overlap)
    apart = [overlap[0], dict(row, preamble="detailed", cot=True, **_iv(0.7, 0.8, 0.9, 16, "alignment"))]
    text = readings.techniques_reading(apart)
    assert text.claim == "techniques-separated" and text.startswith("Detailed + CoT, 0-shot is above Base, 0-shot")
    assert readings.techniques_reading([]).claim == ""


def test_gold_and_agreement_readings():
    gold = {"sft": _iv(0.70, 0.75, 0.80), "rlaif": _iv(0.85, 0.9, 0.95), "rlhf": _iv(0.75, 0.8, 0.85),
            "drlaif": _iv(0.5, 0.55, 0.6), "reference": _iv(1, 1, 1)}
    text = readings.gold_reading({"gold_score": gold})
    assert text == "Gold score: RLAIF clearly above SFT; d-RLAIF clearly below SFT; RLHF overlapping SFT's interval."
    assert text.claim == "above:rlaif;below:drlaif;overlap:rlhf"
    assert readings.gold_reading({}) == ""
    lo, hi = paper.HUMAN_AGREEMENT
    for value, rel in (((lo + hi) / 200, "inside"), (lo / 100 - 0.05, "below"), (hi / 100 + 0.05, "above")):
        r = readings.agreement_reading({"human_rater_agreement": value})
        assert r.claim == f"agreement-{rel}" and f"{rel} the {lo}-{hi}%" in r and fmt_pct(value) in r


# ----------------------------------------------------------------------------- the report says the same
def test_report_prints_the_readings_and_follows_altered_metrics(tmp_path):
    from rlaif_lib.report import write_report

    run = tmp_path / "run"
    shutil.copytree(EXAMPLE, run)
    metrics = json.loads((run / "metrics.json").read_text())
    text = write_report(run, metrics).read_text()
    for r in [readings.win_reading(metrics, n) for n in metrics["win_rate"]] + [
            readings.alignment_reading(metrics), readings.position_reading(metrics), readings.rm_reading(metrics),
            readings.gold_reading(metrics), readings.agreement_reading(metrics)]:
        assert f"- {r}\n" in text, r
    notes = readings.paper_comparison_notes(metrics, json.loads((run / "preset.json").read_text()))
    assert notes and all(f"- {n}\n" in text for n in notes)
    flipped = copy.deepcopy(metrics)
    flipped["win_rate"]["rlaif_vs_sft"] = _iv(0.30, 0.35, 0.40, n=200)
    text = write_report(run, flipped).read_text()
    assert "- RLAIF loses to SFT: 35.0% [30.0, 40.0], n=200;" in text and "- RLAIF beats SFT" not in text
    flipped["mean_words"] = dict(metrics["mean_words"], rlaif=40.0, rlhf=40.0, drlaif=40.0)
    text = write_report(run, flipped).read_text()
    assert "longer than SFT's, as the paper's did" in text and "RLAIF 40.0" in text


# ----------------------------------------------------------------------------- like for like with the paper
def _run():
    return json.loads((EXAMPLE / "metrics.json").read_text()), json.loads((EXAMPLE / "preset.json").read_text())


def _note(notes, claim_prefix):
    found = [n for n in notes if n.claim.startswith(claim_prefix)]
    assert len(found) <= 1
    return found[0] if found else None


def test_comparison_notes_state_the_example_runs_differences_from_its_numbers():
    metrics, preset = _run()
    notes = readings.paper_comparison_notes(metrics, preset)
    assert [n.claim.split(":")[0] for n in notes] == ["steps", "length", "judge", "labeler", "n"]
    steps = _note(notes, "steps")
    assert steps.claim == "steps:fewer"
    assert (f"d-RLAIF trained {preset['drlaif_steps']} RL steps, fewer than RLAIF's and RLHF's "
            f"{preset['rl']['max_steps']}") in steps
    length = _note(notes, "length")
    assert all(f"{POLICY} {metrics['mean_words'][key]:.1f}" in length
               for key, POLICY in (("sft", "SFT"), ("rlaif", "RLAIF"), ("rlhf", "RLHF"), ("drlaif", "d-RLAIF")))
    assert "Table 8" in length and "SIMULATED" in _note(notes, "judge")
    assert "135M parameters" in _note(notes, "labeler") and "PaLM 2" in _note(notes, "labeler")
    n = _note(notes, "n")
    assert f"n={metrics['win_rate']['rlaif_vs_sft']['n']} held-out posts" in n
    assert f"n={metrics['labeler']['alignment_ci']['n']} test pairs" in n


def test_comparison_notes_follow_altered_presets_and_metrics():
    metrics, preset = _run()
    same = copy.deepcopy(preset)
    same["drlaif_steps"] = preset["rl"]["max_steps"]
    assert _note(readings.paper_comparison_notes(metrics, same), "steps") is None  # equal budgets: no note
    more = copy.deepcopy(preset)
    more["drlaif_steps"], more["rl"]["max_steps"] = 50, 12
    steps = _note(readings.paper_comparison_notes(metrics, more), "steps")
    assert steps.claim == "steps:more" and "d-RLAIF trained 50 RL steps, more than RLAIF's and RLHF's 12" in steps
    no_drlaif = copy.deepcopy(metrics)
    del no_drlaif["rl"]["drlaif"]
    assert _note(readings.paper_comparison_notes(no_drlaif, preset), "steps") is None

    def length(words):
        return _note(readings.paper_comparison_notes(dict(metrics, mean_words=words), preset), "length")

    longer = length({"sft": 20.0, "rlaif": 26.0, "rlhf": 30.0})
    assert longer.claim == "length:longer" and "longer than SFT's, as the paper's did" in longer
    assert "RLAIF 26.0" in longer and "shorter" not in longer
    shorter = length({"sft": 20.0, "rlaif": 15.0, "rlhf": 16.0})
    assert shorter.claim == "length:shorter" and "shorter than SFT's, whereas the paper's wrote longer" in shorter
    even = length({"sft": 20.0, "rlaif": 20.4})
    assert even.claim == "length:about-as-long" and "about as long as SFT's" in even and "shorter" not in even
    assert length({"sft": 20.0, "rlaif": 30.0, "rlhf": 10.0}).claim == "length:longer,shorter"
    assert length({}) is None

    ai = dict(metrics, judge={"kind": "ai", "name": "qwen-3b", "description": "AI judge qwen-3b"})
    judge = _note(readings.paper_comparison_notes(ai, dict(preset, comparisons="openai")), "judge")
    assert judge.claim == "judge:ai" and "AI judge qwen-3b" in judge and "SIMULATED" not in judge
    assert _note(readings.paper_comparison_notes(dict(metrics, judge=None), preset), "judge") is None

    labeler = copy.deepcopy(metrics)
    labeler["labeler"]["name"] = "qwen2.5-1.5b-instruct"
    assert "1.5B parameters" in _note(readings.paper_comparison_notes(labeler, preset), "labeler")

    bigger = copy.deepcopy(metrics)
    for d in bigger["win_rate"].values():
        d["n"] = 1000
    assert "n=1000 held-out posts" in _note(readings.paper_comparison_notes(bigger, preset), "n")
    assert readings.paper_comparison_notes({}) == []  # a run with nothing measured: no notes, no error
