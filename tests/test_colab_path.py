"""The `colab` preset's code path end to end on CPU: its real-data stages, its RL (gradient accumulation
over micro-batches), its independent AI judge, on local files in the hub schemas, with tiny random
models of its architectures built from local configs (no hub): a Llama (SmolLM2) policy, and a Qwen2
labeler and a second Qwen2 as judge, all with SmolLM2's real tokenizer and chat template.

What this cannot show without a GPU: the fp16/bf16 paths and the times. The device policy's choices
for those are tested with mocked capability queries in test_device.py."""
import json
import random
from dataclasses import replace

import pytest

from rlaif_lib import data, models, pipeline, toy_world
from rlaif_lib.presets import get_preset


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def tiny_causal_lm(arch: str, folder, seed: int) -> str:
    """A 2-layer random model of `arch` ("llama" | "qwen2") with SmolLM2's tokenizer, saved to `folder`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    tokenizer = models.load_tokenizer(models.SMOLLM2)
    config_cls, model_cls = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM)}[arch]
    config = config_cls(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model_cls(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("colab")
    rng = random.Random(0)
    posts = toy_world.generate_posts(120, "label", seed=5)
    write_jsonl(tmp / "tldr.jsonl", toy_world.sft_rows(posts))  # trl-lib/tldr schema
    # comparison files per split, split by the kit's own rule for a single file, so that no held-out
    # post is a training post (stage_data checks it)
    by_split = {s: [p for p in posts if data.split_of_post(p.body) == s] for s in data.SPLIT_FRACTIONS}
    (tmp / "comparisons").mkdir()
    for split, chunk in (("train", by_split["train"][:12]), ("validation", by_split["validation"][:8])):
        rows = []
        for p in chunk:
            bad = toy_world.corrupt_summary(p, "drop_fact", rng)
            choice, confidence = toy_world.human_preference(p, p.reference, bad, rng)
            rows.append(toy_world.comparison_row(p, " " + p.reference, " " + bad, choice, confidence, split=split))
        write_jsonl(tmp / "comparisons" / f"{split}.jsonl", rows)  # openai/summarize_from_feedback schema
    colab = get_preset("colab")
    policy = tiny_causal_lm("llama", tmp / "smollm2-like-policy", seed=1)
    labeler = tiny_causal_lm("qwen2", tmp / "qwen2-like-labeler", seed=2)
    judge = tiny_causal_lm("qwen2", tmp / "qwen2-like-judge", seed=3)
    preset = replace(colab, name="colab-local", sft_data=str(tmp / "tldr.jsonl"), comparisons=str(tmp / "comparisons"),
                     base_policy=policy, labeler=labeler, judge=judge, labeler_ladder=(),
                     n_sft=24, n_label_posts=12, n_test_pairs=8, n_rl_prompts=8, n_eval_posts=4, max_new_tokens=6,
                     drlaif_steps=1, n_technique_pairs=2, technique_cot_tokens=4,
                     sft=replace(colab.sft, batch_size=8), reward=replace(colab.reward, batch_size=4),
                     rl=replace(colab.rl, max_steps=1, batch_size=8, micro_batch_size=4, max_completion_length=6))
    run = tmp / "run"
    return preset, run, pipeline.run(preset, run)


def test_colab_path_runs_end_to_end(colab_like):
    preset, run, m = colab_like
    assert preset.rl_policies == get_preset("colab").rl_policies and preset.rl.micro_batch_size < preset.rl.batch_size
    assert json.loads((run / "sft" / "config.json").read_text())["model_type"] == "llama"
    assert set(m["win_rate"]) == {"rlaif_vs_sft", "rlhf_vs_sft", "drlaif_vs_sft", "rlaif_vs_rlhf"}
    assert all(0 <= w["value"] <= 1 and w["n"] == 4 for w in m["win_rate"].values())
    assert m["labeler"]["alignment_ci"]["n"] == 8 and len(m["labeler"]["techniques"]) == len(preset.techniques)
    for folder in ("sft", "reward/ai", "reward/human", "rl/rlaif", "rl/drlaif"):
        info = json.loads((run / folder / "run_info.json").read_text())
        assert info["kind"] == "cpu" and info["world_size"] == 1
    # one optimizer step of 8 completions = 2 micro-batches of 4 (gradient accumulation)
    assert json.loads((run / "rl" / "rlaif" / "run_info.json").read_text())["global_steps"] == 1


def test_colab_path_judge_is_independent_and_recorded(colab_like):
    preset, run, m = colab_like
    assert m["judge"] == {"name": preset.judge, "kind": "ai", "independent_of_labeler": True,
                          "description": f"AI judge {preset.judge} (not a labeler of this run), both orders"}
    assert json.loads((run / "metrics.json").read_text())["judge"]["name"] == preset.judge
    assert (run / "evaluate" / "judge_cache.jsonl").exists()
