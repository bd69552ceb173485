"""The labeler sweep on the `micro` preset: every point is a pipeline run (labels -> RM -> RL ->
evaluation) on the base run's stages, and a point made with other settings is never reused.

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
from rlaif_lib.report import write_report
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
    # every point is a run folder on the base run's data, sft and sample stages (linked, not recomputed);
    # the real LLM and human points also on its labels and reward models, unchanged
    points = base.root / "sweep" / "points"
    for r in result["points"]:
        run = RunFolder(points / r["name"])
        assert read_json(run.preset)["rl"]["max_steps"] == r["rl_steps"] and read_json(run.metrics)["win_rate"]
        assert all(run.stage(s).resolve() == base.stage(s).resolve() for s in ("data", "sft", "sample"))
        assert r["reused"] == (["data", "sft", "sample"] if r["kind"] == "simulated" else
                               ["data", "sft", "sample", "label", "reward"])
        assert not run.stage("rl").is_symlink() and set(r["seconds"]) == {"label", "reward", "rl", "evaluate"} - set(r["reused"])
    llm = next(r for r in result["points"] if r["kind"] == "llm")
    assert read_jsonl(RunFolder(points / "llm").labels("train")) == read_jsonl(base.labels("train"))
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
    write_report(run, metrics)
    assert metrics["labeler"]["name"].startswith("simulated labeler")
    assert metrics["labeler"]["techniques"] == []  # Table 2 is about prompts: no prompts here
    rows = read_jsonl(run.labels("train"))
    assert rows and all(r["labeler"].startswith("simulated labeler") for r in rows)
    assert "simulated labeler" in run.report.read_text()


ONE_POINT = sweep.SweepConfig(alignments=(0.7,), gold=False, llm=False, human=False, position_panel=())


def test_a_point_made_with_another_rl_budget_is_retrained(micro_sweep, tmp_path):
    """`--rl-steps 2` into a sweep folder whose point was trained for 1 step: the point's RL stage is
    rerun for 2 steps, never its 1-step numbers returned as 2-step ones."""
    base, preset, _ = micro_sweep
    one = sweep.run_sweep(preset, tmp_path, replace(ONE_POINT, rl_steps=1), base=base)["points"][0]
    assert one["rl_steps"] == 1
    two = sweep.run_sweep(preset, tmp_path, replace(ONE_POINT, rl_steps=2), base=base)["points"][0]
    run = RunFolder(tmp_path / "points" / two["name"])
    assert two["rl_steps"] == 2 and read_json(run.done("rl"))["provenance"]["inputs"]["rl"]["max_steps"] == 2
    assert read_json(run.rl_curves("rlaif"))["step"][-1] == 2  # retrained: its curves reach step 2
    assert two["seconds"]["label"] == one["seconds"]["label"]  # the stages before RL are kept


def test_the_sft_summaries_follow_the_evaluation_settings(micro_sweep, tmp_path):
    """The SFT side of every win rate is the point's own evaluate stage, covered by its fingerprint: other
    generation settings (here sampling at temperature 1 instead of greedy decoding) give other SFT
    summaries, never the ones cached for the same posts."""
    base, preset, _ = micro_sweep
    greedy = sweep.run_sweep(preset, tmp_path, ONE_POINT, base=base)
    sampled = sweep.run_sweep(replace(preset, eval_temperature=1.0), tmp_path, ONE_POINT, base=base)
    assert sampled["sft_gold_score"] != greedy["sft_gold_score"] and sampled["sft_profile"] != greedy["sft_profile"]
    run = RunFolder(tmp_path / "points" / sampled["points"][0]["name"])
    assert read_json(run.done("evaluate"))["provenance"]["inputs"]["eval_temperature"] == 1.0
    assert sampled["points"][0]["seconds"]["rl"] == greedy["points"][0]["seconds"]["rl"]  # RL kept, evaluation rerun


def test_a_point_needs_the_base_stages_it_reuses(micro_sweep, tmp_path):
    """The LLM point reuses the base run's labels: a base without a finished label stage is a clear error."""
    base, preset, _ = micro_sweep
    partial = RunFolder(tmp_path / "base")
    for stage in ("data", "sft", "sample"):
        shutil.copytree(base.stage(stage), partial.stage(stage))
    llm = next(p for p in sweep.sweep_points(sweep.SweepConfig(), preset) if p.kind == "llm")
    with pytest.raises(pipeline.StageMismatchError, match="no finished 'label' stage"):
        sweep.run_point(llm, partial, tmp_path / "llm", preset)
