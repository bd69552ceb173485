"""The run folder: typed paths (each stage writes in its own folder), atomic JSON/JSONL writes, the
notebooks' setup, and the rewards' names."""
import json
import os
from pathlib import Path

import pytest

from rlaif_lib.method import rewards
from rlaif_lib.method.labeling import LabelConfig
from rlaif_lib.method.rl import RLStageConfig
from rlaif_lib.pipeline import STAGES
from rlaif_lib.run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl


def test_json_helpers_round_trip_and_leave_no_temp_file(tmp_path):
    write_json(tmp_path / "m.json", {"a": [1, 2]})
    assert (tmp_path / "m.json").read_text() == json.dumps({"a": [1, 2]}, indent=1)
    assert read_json(tmp_path / "m.json") == {"a": [1, 2]}
    write_jsonl(tmp_path / "rows.jsonl", [{"x": 1}, {"x": 2}])
    assert (tmp_path / "rows.jsonl").read_text() == '{"x": 1}\n{"x": 2}\n'
    assert read_jsonl(tmp_path / "rows.jsonl") == [{"x": 1}, {"x": 2}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "rows.jsonl"]


def test_a_failed_write_keeps_the_old_file_whole(tmp_path):
    write_json(tmp_path / "m.json", {"ok": True})

    def rows():
        yield {"x": 1}
        raise RuntimeError("killed mid-write")

    with pytest.raises(TypeError):
        write_json(tmp_path / "m.json", {"bad": object()})
    with pytest.raises(RuntimeError):
        write_jsonl(tmp_path / "m.json", rows())
    assert read_json(tmp_path / "m.json") == {"ok": True}


def test_every_artefact_lives_in_its_stage_folder(tmp_path):
    run = RunFolder(tmp_path)
    assert Path(run) == tmp_path and os.fspath(run) == str(tmp_path)
    per_stage = {"data": [run.sft_rows, run.rl_prompts, run.eval_prompts], "sft": [run.sft_loss],
                 "sample": [run.comparisons("train"), run.comparisons("test")],
                 "label": [run.labels("train"), run.labels("train_same_size"), run.label_cache],
                 "reward": [run.reward_model("ai"), run.reward_loss("human")],
                 "rl": [run.rl_curves("rlaif")], "evaluate": [run.summaries, run.judge_cache]}
    assert set(per_stage) == set(STAGES)
    for stage, paths in per_stage.items():
        assert run.done(stage).parent == run.stage(stage)
        for path in paths:
            assert path.relative_to(tmp_path).parts[0] == stage, path
    for path in (run.preset, run.metrics, run.report, run.report_html, run.figures):
        assert path.parent == tmp_path


def test_rl_policies_lists_finished_policies_only(tmp_path):
    run = RunFolder(tmp_path)
    for name, done in (("rlhf", True), ("rlaif", True), ("drlaif", False)):
        run.rl_policy(name).mkdir(parents=True)
        if done:
            write_json(run.rl_curves(name), {"step": []})
    assert run.rl_policies() == ["rlaif", "rlhf"]


def test_setup_reads_the_environment(monkeypatch, tmp_path, capsys):
    from rlaif_lib.notebook import setup

    monkeypatch.setenv("RLAIF_PRESET", "micro")
    monkeypatch.setenv("RLAIF_RUN", str(tmp_path))
    preset, run = setup()
    out = capsys.readouterr().out
    assert preset.name == "micro" and run.root == tmp_path and "micro" in out
    from rlaif_lib.notebook import EXAMPLE_RUN

    total = round(sum(read_json(EXAMPLE_RUN / "metrics.json")["stages"].values()))  # the example run's stages
    assert total > 0 and f"on `tiny` took {total} s in the committed example run" in out
    gflops = read_json(EXAMPLE_RUN / "resources.json")["machine"]["matmul_gflops"]
    assert f"matmul {gflops} GFLOP/s" in out
    monkeypatch.delenv("RLAIF_PRESET")
    monkeypatch.delenv("RLAIF_RUN")
    preset, run = setup()
    root = Path(__file__).resolve().parent.parent  # <repo>/runs/demo wherever the notebook runs (also on Colab)
    assert preset.name == "tiny" and run.root == root / "runs" / "demo"


def test_reward_names_cover_every_policy():
    assert set(rewards.REWARD_FN_NAMES) == set(rewards.RL_POLICIES) | {"gold"}
    assert set(rewards.POLICY_REWARD_MODEL.values()) <= set(rewards.REWARD_MODELS)
    with pytest.raises(ValueError, match="unknown RL policy 'ppo'"):
        rewards.policy_reward("ppo", RunFolder("/nowhere"), RLStageConfig(), "x", LabelConfig())


def test_gold_reward_scores_with_the_gold_rater():
    from rlaif_lib import toy_world

    posts = {p.id: p for p in toy_world.generate_posts(3, "sft")}
    gold = rewards.gold_reward(posts)
    ids = list(posts)
    assert gold.__name__ == rewards.REWARD_FN_NAMES["gold"]
    assert gold(["p"] * 3, [posts[i].reference for i in ids], id=ids) == [
        toy_world.gold_score(posts[i], posts[i].reference) for i in ids]
