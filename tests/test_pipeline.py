"""The whole paper on a very small budget (`micro` preset), end to end, and its resume logic.

The run folder is $RLAIF_RUN when set (`make test` points the notebooks at the same folder, so
nbmake reuses these artefacts), else a temporary folder.
"""
import json
import os
import time
from pathlib import Path

import pytest

from rlaif_lib import pipeline
from rlaif_lib.method.rewards import REWARD_FN_NAMES
from rlaif_lib.presets import get_preset
from rlaif_lib.report import write_report
from rlaif_lib.run_folder import RunFolder, read_jsonl


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory):
    run = Path(os.environ.get("RLAIF_RUN") or tmp_path_factory.mktemp("micro"))
    metrics = pipeline.run(get_preset("micro"), run)
    write_report(RunFolder(run), metrics)
    return run, metrics


def test_metrics_have_every_headline_number(micro_run):
    run, m = micro_run
    assert m["preset"] == "micro"
    assert set(m["stages"]) == set(pipeline.STAGES) and all(s is not None for s in m["stages"].values())
    assert 0 <= m["labeler"]["alignment"] <= 1 and m["labeler"]["alignment_ci"]["n"] > 0
    assert 0 <= m["labeler"]["same_position_pct"] <= 100
    for key in ("reward_model", "reward_model_rlhf"):
        assert set(m[key]) >= {"accuracy_human", "ci_low", "ci_high", "n"} and m[key]["n"] > 0
    for name in ("rlaif_vs_sft", "rlhf_vs_sft", "rlaif_vs_rlhf", "drlaif_vs_sft"):
        w = m["win_rate"][name]
        assert w["ci_low"] <= w["value"] <= w["ci_high"] and w["n"] == get_preset("micro").n_eval_posts
    assert set(m["win_rate_length_controlled"]) == {"rlaif_vs_sft", "rlhf_vs_sft"}
    assert 0 <= m["sft"]["gold_score"] <= 1 and m["reference"]["gold_score"] > 0.9
    assert json.loads((run / "metrics.json").read_text()) == m


def test_artefacts_of_every_stage(micro_run):
    run, _ = micro_run
    for path in ("data/sft.jsonl", "sample/comparisons_train.jsonl", "sample/comparisons_test.jsonl", "sft/model.safetensors",
                 "label/labels_train.jsonl", "label/cache.jsonl", "reward/ai/model.safetensors",
                 "reward/human/model.safetensors", "rl/rlaif/curves.json", "rl/rlhf/curves.json",
                 "rl/drlaif/curves.json", "evaluate/summaries.jsonl", "report.md", "report.html",
                 "figures/win_rates.png", "figures/rl_curves.png"):
        assert (run / path).exists(), path
    labels = read_jsonl(RunFolder(run).labels("train"))
    assert all(0 <= x["p_a"] <= 1 for x in labels)
    # notebook 02's tables, computed once by the label stage (Tables 2, 14 and 3)
    preset = get_preset("micro")
    tables = {name: json.loads(RunFolder(run).label_table(name).read_text())
              for name in ("techniques", "self_consistency", "labeler_size")}
    assert [(r["preamble"], r["shots"], r["cot"]) for r in tables["techniques"]] == [tuple(t) for t in preset.techniques]
    assert [(r["samples"], r["temperature"]) for r in tables["self_consistency"]] == [tuple(s) for s in preset.self_consistency]
    assert all(r["n"] == preset.n_self_consistency_pairs for r in tables["self_consistency"])
    assert [r["labeler"] for r in tables["labeler_size"]][0] == preset.labeler and len(tables["labeler_size"]) == 4
    assert all(0 <= r["alignment"] <= 1 for rows in tables.values() for r in rows)
    assert all(json.loads((run / "metrics.json").read_text())["labeler"][name] == rows for name, rows in tables.items())
    curves = json.loads((run / "rl" / "rlaif" / "curves.json").read_text())
    assert {"reward_model", "kl", "length", "gold"} <= set(curves)
    for policy in get_preset("micro").rl_policies:  # each policy's reward is logged under its constant name
        assert REWARD_FN_NAMES[policy] in json.loads(RunFolder(run).rl_curves(policy).read_text()), policy


def test_rerun_skips_completed_stages(micro_run):
    run, m = micro_run
    start = time.time()
    again = pipeline.run(get_preset("micro"), run)
    assert time.time() - start < 30
    assert again["win_rate"] == m["win_rate"]


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("huge")


def test_the_tiny_policy_rebuilds_from_scratch(tmp_path):
    """The shipped checkpoint's recipe, at a toy budget: tokenizer + Llama-style pretraining, then generation."""
    from rlaif_lib.method.sft import generate
    from rlaif_lib.policy import TinyPolicyConfig, pretrain_tiny_policy

    config = TinyPolicyConfig(vocab_size=400, n_layer=1, n_embd=32, n_head=2, n_posts=40, epochs=1, batch_size=8)
    path = pretrain_tiny_policy(config, tmp_path / "policy", progress=False)
    log = json.loads((path / "pretrain_log.json").read_text())
    assert log[-1]["train_loss"] > 0
    out = generate(str(path), ["SUBREDDIT: r/relationships\n\nTITLE: Help\n\nPOST: My boyfriend"], max_new_tokens=5)
    assert len(out) == 1 and isinstance(out[0][0], str)


def test_cli_resumes_a_finished_run(micro_run, capsys):
    from rlaif_lib.cli import main

    run, m = micro_run
    main(["run", "--preset", "micro", "--out", str(run)])
    out = capsys.readouterr().out
    assert "[label] done already" in out and "win_rate" in out
    assert json.loads((run / "metrics.json").read_text())["win_rate"] == m["win_rate"]


def test_overopt_trains_one_policy_per_beta_and_logs_gold_kl_and_reward(micro_run, tmp_path, capsys):
    from rlaif_lib.cli import main

    run, _ = micro_run
    main(["overopt", "--preset", "micro", "--base", str(run), "--out", str(tmp_path), "--steps", "3",
          "--betas", "0.001", "0.05"])
    result = json.loads((tmp_path / "overoptimization.json").read_text())
    assert set(result["curves"]) == {"0.001", "0.05"} and (tmp_path / "overoptimization.png").exists()
    for curves in result["curves"].values():
        assert curves["step"] == [1, 2, 3] and all(len(curves[k]) == 3 for k in ("gold", "kl", "reward_model"))
    assert "beta = 0.001" in capsys.readouterr().out


def test_a_perturbation_like_another_machines_rounding_moves_the_numbers_and_the_spread_reports_it(micro_run, tmp_path):
    """Another CPU rounds floats differently, and training amplifies the difference. Stand-in: the same run's
    RL stage again with another RL seed (another order of sampled rollouts), on the same data, SFT policy,
    labels and reward models (linked, not recomputed). The policies' numbers move, what comes before RL does
    not, and the seed-spread machinery reports the move as a range."""
    from dataclasses import replace

    from rlaif_lib.experiments import seeds, sweep

    run, metrics = micro_run
    preset = replace(get_preset("micro"), rl_seed=1)
    other = RunFolder(tmp_path / "perturbed")
    before_rl = ("data", "sft", "sample", "label", "reward")
    assert sweep.reuse_base_stages(RunFolder(run), other, preset, required=before_rl, last="reward") == list(before_rl)
    perturbed = pipeline.run(preset, other.root)
    a, b = seeds.headline_numbers(metrics), seeds.headline_numbers(perturbed)
    assert a["labeler alignment"] == b["labeler alignment"] and a["gold score, SFT"] == b["gold score, SFT"]
    moved = [n for n in ("RLHF vs SFT", "RLAIF vs SFT", "RLAIF vs RLHF", "gold score, RLHF") if a[n] != b[n]]
    assert moved, "another RL seed left every policy's number unchanged"
    result = {"seeds": [0, 1], "spread": {n: seeds.spread([a[n], b[n]]) for n in a if n in b}}
    table = seeds.spread_table(metrics, result)
    for name in moved:
        s = result["spread"][name]
        assert s["max"] > s["min"] and f"| {name} |" in table and " to " in table.split(f"| {name} |")[1].split("\n")[0]
