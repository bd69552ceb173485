"""Choosing the labeling configuration on a validation split (never on the test pairs)."""
import pytest

from rlaif_lib.data import load_run_pairs
from rlaif_lib.experiments import selection
from rlaif_lib.presets import get_preset
from rlaif_lib.run_folder import RunFolder
from tests.conftest import toy_comparison_rows


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


def test_exemplars_are_the_strongest_preferences_at_either_end_of_the_scale():
    from rlaif_lib.method.labeling import select_exemplars

    pairs = [{"id": f"p{i}", "post": f"post {i}", "summary_a": f"a {i}", "summary_b": f"b {i}", "subreddit": f"s{i}",
              "choice": 0 if c < 5 else 1, "confidence": c} for i, c in enumerate([1, 4, 6, 9, 3, 7])]
    picked = {e["id"] for e in select_exemplars(pairs, 2, seed=0)}
    assert picked == {"p0", "p3"}  # confidence 1 (definitely summary 0) is as sure as 9 (definitely summary 1)


def test_label_exemplars_come_from_posts_no_split_uses(tiny_lm, tmp_path):
    import shutil
    from dataclasses import replace

    from rlaif_lib import pipeline
    from rlaif_lib.method.labeling import LabelConfig
    from rlaif_lib.run_folder import write_jsonl

    preset = get_preset("micro", n_samples=3, max_new_tokens=8)
    run = RunFolder(tmp_path / "run")
    shutil.copytree(tiny_lm, run.sft)
    run.stage("sample").mkdir(parents=True)
    write_jsonl(run.comparisons("train"), toy_comparison_rows("train", n=preset.n_label_posts))
    write_jsonl(run.comparisons("test"), toy_comparison_rows("test", n=preset.n_test_pairs))
    assert pipeline.label_exemplars(preset, run) == []  # 0-shot
    one_shot = replace(preset, label=LabelConfig(preamble="base", shots=1))
    ex = pipeline.label_exemplars(one_shot, run)
    assert len(ex) == 1 and ex[0]["choice"] in (0, 1)
    first = preset.n_label_posts + pipeline.EXEMPLAR_OFFSET
    assert int(ex[0]["id"].split("-")[1]) >= first  # beyond the label posts and the validation split
    labelled = {p["post"] for s in ("train", "test") for p in load_run_pairs(run, s)}
    assert ex[0]["post"] not in labelled
    assert pipeline.label_exemplars(one_shot, run) == ex  # read back from label/exemplar_pool.jsonl
    two = pipeline.label_exemplars(preset, run, shots=2)  # Table 2 / the selection: more shots than the preset's
    assert len(two) == 2 and all(e["post"] not in labelled for e in two)
