"""Choosing the labeling configuration on a validation split (never on the test pairs)."""
import pytest

from rlaif_lib.labeling import selection
from rlaif_lib.presets import get_preset
from rlaif_lib.run_folder import RunFolder


def row(preamble, shots, cot, alignment):
    return {"preamble": preamble, "shots": shots, "cot": cot, "alignment": alignment, "ci_low": alignment - 0.07,
            "ci_high": alignment + 0.07, "n": 200, "same_position_pct": 50.0}


def test_choose_takes_the_best_and_breaks_ties_by_cost():
    rows = [row("detailed", 2, True, 0.6), row("base", 1, False, 0.6), row("detailed", 0, False, 0.55)]
    assert selection.choose(rows)["shots"] == 1 and not selection.choose(rows)["cot"]
    assert selection.choose(rows + [row("detailed", 0, True, 0.61)])["cot"]
    subset = dict(row("base", 0, True, 0.9), n=60)  # measured on a subset (CoT cut for time): never chosen
    assert not selection.choose(rows + [subset])["cot"]
    with pytest.raises(ValueError):
        selection.choose([])


def test_validation_pairs_come_from_posts_no_other_split_uses(tiny_lm, tmp_path):
    import shutil

    preset = get_preset("micro", n_label_posts=5, n_samples=3, max_new_tokens=8)
    run = RunFolder(tmp_path / "run")
    shutil.copytree(tiny_lm, run.sft)
    pairs = selection.validation_pairs(run, preset, n_posts=12)
    assert 0 < len(pairs) <= 12 and run.validation_pairs.exists()
    ids = {p["id"] for p in pairs}
    assert all(i.startswith("label-") and int(i.split("-")[1]) >= preset.n_label_posts for i in ids)
    assert all(p["choice"] in (0, 1) and p["summary_a"] != p["summary_b"] for p in pairs)
    assert selection.validation_pairs(run, preset, n_posts=12) == pairs  # read back, not resampled


def test_selection_table_marks_the_chosen_row():
    result = {"rows": [row("base", 0, False, 0.52), row("detailed", 1, False, 0.58)],
              "chosen": {"preamble": "detailed", "shots": 1, "cot": False},
              "test": {"alignment": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 80}}
    text = selection.selection_table(result)
    assert "detailed (chosen)" in text and "base (chosen)" not in text and "n=80" in text


def test_committed_selection_is_a_validation_choice():
    res = selection.load_selection()
    full = [r for r in res["rows"] if r["n"] == max(x["n"] for x in res["rows"])]
    assert res["chosen"]["validation_alignment"] == max(r["alignment"] for r in full)
    assert full[0]["n"] >= 190 and len(full) >= 6  # every non-CoT setting, on enough pairs for about +-7 points
    preset = get_preset("tiny")
    assert (preset.label.preamble, preset.label.shots, preset.label.cot) == (
        res["chosen"]["preamble"], res["chosen"]["shots"], res["chosen"]["cot"])
