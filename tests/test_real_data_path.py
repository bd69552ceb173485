"""The GPU presets' code path (real TL;DR schemas, no toy world, AI judge) run end to end on local
files in the same schemas as `trl-lib/tldr` and `openai/summarize_from_feedback`, with a tiny random
LM as policy and labeler. Nothing here touches the hub."""
import json
from dataclasses import replace

from rlaif_lib import data, pipeline, toy_world
from rlaif_lib.data import load_run_pairs
from rlaif_lib.method.labeling import LabelConfig
from rlaif_lib.presets import get_preset, is_toy
from rlaif_lib.run_folder import RunFolder


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_real_schema_pipeline_on_local_files(tiny_lm, tmp_path):
    import random

    rng = random.Random(0)
    posts = toy_world.generate_posts(60, "label", seed=3)
    # One SFT file, which the kit splits by post; comparison files per split, split by the same rule,
    # so that no held-out post is ever a training post (stage_data checks it).
    write_jsonl(tmp_path / "tldr.jsonl", toy_world.sft_rows(posts))  # trl-lib/tldr schema
    by_split = {s: [p for p in posts if data.split_of_post(p.body) == s] for s in data.SPLIT_FRACTIONS}
    assert min(map(len, by_split.values())) >= 3, {s: len(v) for s, v in by_split.items()}
    comparisons = tmp_path / "comparisons"
    comparisons.mkdir()
    for split, chunk in (("train", by_split["train"]), ("validation", by_split["validation"])):
        rows = []
        for p in chunk:
            bad = toy_world.corrupt_summary(p, "drop_fact", rng)
            choice, confidence = toy_world.human_preference(p, p.reference, bad, rng)
            rows.append(toy_world.comparison_row(p, " " + p.reference, " " + bad, choice, confidence, split=split))
        write_jsonl(comparisons / f"{split}.jsonl", rows)  # openai/summarize_from_feedback schema

    micro = get_preset("micro")
    preset = replace(micro, name="local-real", sft_data=str(tmp_path / "tldr.jsonl"), comparisons=str(comparisons),
                     base_policy=tiny_lm, labeler=tiny_lm, label=LabelConfig(preamble="base", chat_template=False),
                     techniques=(), rl_policies=("rlaif", "rlhf", "rlaif_same_size"),
                     same_size_labeler=tiny_lm, n_eval_posts=6, n_rl_prompts=8,
                     rl=replace(micro.rl, max_completion_length=8), max_new_tokens=8,
                     sft=replace(micro.sft, max_length=1024), reward=replace(micro.reward, max_length=1024))
    run = tmp_path / "run"
    m = pipeline.run(preset, run)
    assert not is_toy(preset)
    folder = RunFolder(run)
    n_train, n_test, n_eval = min(micro.n_label_posts, len(by_split["train"])), len(by_split["validation"]), \
        min(6, len(by_split["test"]))
    assert folder.comparisons("train").exists() and len(load_run_pairs(folder, "train")) == n_train
    assert m["labeler"]["alignment_ci"]["n"] == n_test
    # no `judge` in this preset: the labeler judges, and metrics.json says it is not independent
    assert m["judge"]["name"] == tiny_lm and m["judge"]["independent_of_labeler"] is False
    assert set(m["win_rate"]) == {"rlaif_vs_sft", "rlhf_vs_sft", "rlaif_same_size_vs_sft", "rlaif_vs_rlhf"}
    assert m["reward_model_same_size"]["n"] == n_test
    assert all(0 <= w["value"] <= 1 and w["n"] == n_eval for w in m["win_rate"].values())
    assert "gold_score" not in m or m["gold_score"] is None
    assert (run / "evaluate" / "judge_cache.jsonl").exists()
