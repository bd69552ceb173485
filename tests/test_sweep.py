"""The labeler sweep on the `micro` preset: every point runs labels -> RM -> RL -> evaluation.

The base run is $RLAIF_RUN when set (`make test`: the micro run tests/test_pipeline.py made), and the
sweep goes to <run>/sweep, where notebook 06 finds it; else both live in a temporary folder.
"""
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from rlaif_lib import pipeline
from rlaif_lib.experiments import sweep
from rlaif_lib.presets import get_preset
from rlaif_lib.run_folder import RunFolder, read_json, read_jsonl


@pytest.fixture(scope="module")
def micro_sweep(tmp_path_factory):
    base = RunFolder(Path(os.environ.get("RLAIF_RUN") or tmp_path_factory.mktemp("micro")))
    preset = get_preset("micro")
    result = sweep.run_sweep(preset, base.root / "sweep", sweep.SweepConfig(), base=base, workers=2)
    return base, preset, result


def test_every_point_reports_its_numbers(micro_sweep):
    base, preset, result = micro_sweep
    names = [p.name for p in sweep.sweep_points(sweep.SweepConfig(), preset)]
    assert [r["name"] for r in result["points"]] == names
    assert {"sim-50", "sim-55", "sim-62.7", "sim-70", "sim-78", "sim-gold", "llm", "human"} <= set(names)
    for r in result["points"]:
        for key in ("rm_accuracy_human", "win_rate_vs_sft", "gold_score"):
            assert r[key]["ci_low"] <= r[key]["value"] <= r[key]["ci_high"], (r["name"], key)
        assert r["win_rate_vs_sft"]["n"] == preset.n_eval_posts and r["rl_steps"] == preset.rl.max_steps
        if r["kind"] == "simulated":
            assert "simulated labeler" in r["labeler_name"] and 0 <= r["same_position_pct"] <= 100
        if r["kind"] != "human":
            assert 0 <= r["alignment_test"]["value"] <= 1 and r["win_rate_vs_rlhf"]["n"] == preset.n_eval_posts
    # the real LLM point uses the base run's own labels, unchanged
    llm = next(r for r in result["points"] if r["kind"] == "llm")
    assert read_jsonl(base.root / "sweep" / "points" / "llm" / "labels_train.jsonl") == read_jsonl(base.labels("train"))
    assert llm["labeler"] == preset.labeler
    assert (base.root / "sweep" / "sweep.png").stat().st_size > 10_000
    assert read_json(base.root / "sweep" / "sweep.json")["points"] == result["points"]


def test_table_reading_and_rerun(micro_sweep):
    base, preset, result = micro_sweep
    table = sweep.sweep_table(result)
    assert table.count("simulated labeler") >= 5 and "human labels" in table
    r = sweep.reading(result)
    assert r["rlhf"]["name"] == "human" and r["llm"]["name"] == "llm"
    assert set(r["paper_alignment"]) == {"PaLM 2 L", "PaLM 2 S", "PaLM 2 XS"}
    again = sweep.run_sweep(preset, base.root / "sweep", sweep.SweepConfig(), base=base)  # every point is done: no retraining
    assert [p["seconds"] for p in again["points"]] == [p["seconds"] for p in result["points"]]


def test_the_label_stage_takes_a_simulated_labeler(micro_sweep, tmp_path):
    base, preset, _ = micro_sweep
    run = RunFolder(tmp_path / "run")
    for stage in ("data", "sft", "sample"):
        shutil.copytree(base.stage(stage), run.stage(stage))
    spec = "simulated:alignment=0.7,same_position=0.3"
    metrics = pipeline.run(replace(preset, labeler=spec), run, stages=("data", "sft", "sample", "label"))
    assert metrics["labeler"]["name"].startswith("simulated labeler")
    assert metrics["labeler"]["techniques"] == []  # Table 2 is about prompts: no prompts here
    rows = read_jsonl(run.labels("train"))
    assert rows and all(r["labeler"].startswith("simulated labeler") for r in rows)
    assert "simulated labeler" in run.report.read_text()


def test_sft_summaries_into_a_folder_no_sweep_made_yet(micro_sweep, tmp_path):
    """Notebook 06's exercise asks for them before any sweep of the run exists (make demo on tiny)."""
    base, preset, result = micro_sweep
    out = tmp_path / "no-sweep-yet" / "sweep"
    got = sweep.sft_summaries(base, out, preset, 4)
    assert (out / "sft_summaries.json").exists() and len(got["summaries"]) == len(got["ids"]) == 4
    assert sweep.sft_summaries(base, out, preset, 4) == got  # read back from the cache
