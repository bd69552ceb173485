"""The paper end to end, one stage after another, each reading the previous stage's artefacts.

    data -> sft -> sample -> label -> reward -> rl -> evaluate

Every stage writes into its own folder of the run folder and ends by writing `done.json` (its
seconds and its metrics). A rerun skips every stage whose `done.json` exists, so a crashed run
resumes where it stopped, and a notebook can pick up a run's artefacts at any stage.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict
from pathlib import Path

from . import data, distributed, estimate, toy_world
from .device import configure as configure_device
from .presets import Preset

STAGES = ("data", "sft", "sample", "label", "reward", "rl", "evaluate")


# ----------------------------------------------------------------------------- helpers
def write_jsonl(path: Path, rows) -> None:
    """Write dict rows as JSON lines (atomically: to a temp file, then renamed)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    tmp.rename(path)


def read_jsonl(path: Path) -> list[dict]:
    """Read JSON lines written by `write_jsonl`."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def is_toy(preset: Preset) -> bool:
    """True when the run lives in the toy world (and so has a gold rater)."""
    return preset.comparisons == "toy"


def toy_posts(preset: Preset, split: str) -> dict:
    """The toy world's posts of a split, by id, for a preset (deterministic in preset.seed)."""
    n = {"sft": preset.n_sft, "label": preset.n_label_posts, "eval": preset.n_test_pairs + preset.n_eval_posts}[split]
    return {p.id: p for p in toy_world.generate_posts(n, split=split, seed=preset.seed)}


def base_policy_path(preset: Preset) -> str:
    """Folder or hub id of the policy SFT starts from ("tiny": the kit's own pretrained tiny policy)."""
    if preset.base_policy == "tiny":
        from .policy import tiny_policy_path

        return str(tiny_policy_path())
    return preset.base_policy


def run_stage(out: Path, name: str, fn, *args) -> dict:
    """Run stage `name` unless its done.json exists; return its metrics (with its seconds)."""
    folder = out / name
    marker = folder / "done.json"
    if marker.exists():
        print(f"[{name}] done already, skipping ({marker})")
        return json.loads(marker.read_text())
    if not distributed.runs_here(name):  # [device] under torchrun/accelerate: rank 0 runs non-training stages
        return distributed.wait_for(marker)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] running ...", flush=True)
    if args:  # [device] the stage's estimated time and memory on this device, before it starts
        estimate.announce(args[0], name)
    start = time.time()
    metrics = fn(*args, folder) or {}
    metrics["seconds"] = round(time.time() - start, 1)
    if distributed.is_main_process():  # [device] only rank 0 writes artefacts
        marker.write_text(json.dumps(metrics, indent=1))
    print(f"[{name}] finished in {metrics['seconds']} s", flush=True)
    return metrics


# ----------------------------------------------------------------------------- stages
def stage_data(preset: Preset, out: Path) -> dict:
    """SFT rows, RL prompts, held-out evaluation prompts (and, on real data, human comparisons)."""
    sft_rows = data.load_sft(preset.sft_data, split="train", n=preset.n_sft, seed=preset.seed)
    write_jsonl(out / "sft.jsonl", sft_rows)
    if is_toy(preset):  # RL prompts carry the post id, so the gold rater can score RL rollouts
        eval_posts = list(toy_posts(preset, "eval").values())[preset.n_test_pairs:]
        rl = [{"id": p.id, "prompt": toy_world.format_prompt(p)} for p in toy_posts(preset, "sft").values()][: preset.n_rl_prompts]
        evaluation = [{"id": p.id, "prompt": toy_world.format_prompt(p), "reference": p.reference} for p in eval_posts]
    else:
        rl = [{"id": f"rl-{i}", "prompt": r["prompt"]} for i, r in enumerate(sft_rows) if i < preset.n_rl_prompts]
        test = data.load_sft(preset.sft_data, split="test", n=preset.n_eval_posts, seed=preset.seed)
        evaluation = [{"id": f"eval-{i}", "prompt": r["prompt"], "reference": r["completion"]} for i, r in enumerate(test)]
        for split, n, name in (("train", preset.n_label_posts, "train"), ("validation", preset.n_test_pairs, "test")):
            rows = data.load_comparisons(preset.comparisons, split=split, n=n, seed=preset.seed)
            write_jsonl(out / f"comparisons_{name}.jsonl", rows)
    write_jsonl(out / "rl_prompts.jsonl", rl)
    write_jsonl(out / "eval_prompts.jsonl", evaluation)
    return {"n_sft": len(sft_rows), "n_rl_prompts": len(rl), "n_eval": len(evaluation)}


def stage_sft(preset: Preset, out: Path) -> dict:
    """Algorithm 1: fine-tune the base policy on the SFT rows."""
    from datasets import Dataset

    from .sft import train_sft

    rows = Dataset.from_list(read_jsonl(out.parent / "data" / "sft.jsonl"))
    train_sft(base_policy_path(preset), rows, out, preset.sft)
    losses = json.loads((out / "loss_curve.json").read_text())
    return {"final_loss": losses[-1]["loss"] if losses else None}


def stage_sample(preset: Preset, out: Path) -> dict:
    """Algorithm 2, first loop: candidate pairs from the SFT policy. In the toy world the simulated
    human raters label them too (OpenAI's comparisons, reproduced); real data brings its own pairs."""
    if not is_toy(preset):
        return {"note": "real data: comparisons come from the dataset (see data/)"}
    from .sft import sample_pairs

    rng = random.Random(preset.seed)
    eval_posts = list(toy_posts(preset, "eval").values())[: preset.n_test_pairs]
    counts = {}
    for name, posts in (("train", list(toy_posts(preset, "label").values())), ("test", eval_posts)):
        pairs = sample_pairs(
            str(out.parent / "sft"), [toy_world.format_prompt(p) for p in posts], [p.id for p in posts],
            n_samples=preset.n_samples, temperature=preset.sample_temperature, max_new_tokens=preset.max_new_tokens,
            seed=preset.seed,
        )
        by_id = {p.id: p for p in posts}
        rows = []
        for pair in pairs:
            post = by_id[pair["id"]]
            choice, confidence = toy_world.human_preference(post, pair["summary_a"], pair["summary_b"], rng)
            rows.append(toy_world.comparison_row(
                post, pair["summary_a"], pair["summary_b"], choice, confidence,
                policies=(pair["policy_a"], pair["policy_b"]), split="train" if name == "train" else "valid1",
            ))
        write_jsonl(out.parent / "data" / f"comparisons_{name}.jsonl", rows)
        counts[f"n_{name}_pairs"] = len(rows)
        if name == "train":  # how often two simulated raters agree on *these* pairs (OpenAI's: 73-77% on theirs)
            counts["rater_agreement"] = toy_world.rater_agreement(
                [(by_id[p["id"]], p["summary_a"], p["summary_b"]) for p in pairs], seed=preset.seed)
    return counts


def load_pairs(out: Path, name: str) -> list[dict]:
    """The flat pairs (id, prompt, summary_a, summary_b, choice, confidence) of a run's comparisons."""
    rows = data.load_comparisons(str(out / "data" / f"comparisons_{name}.jsonl"))
    return data.comparisons_to_pairs(rows)


def stage_label(preset: Preset, out: Path) -> dict:
    """Sec. 2.1: soft AI labels for every pair, both orders averaged; alignment on held-out pairs."""
    from . import labeler

    train, test = load_pairs(out.parent, "train"), load_pairs(out.parent, "test")
    labels = labeler.label_pairs(train + test, labeler=preset.labeler, config=preset.label,
                                 cache_path=out / "cache.jsonl")
    write_jsonl(out / "labels_train.jsonl", labels[: len(train)])
    write_jsonl(out / "labels_test.jsonl", labels[len(train):])
    test_labels = labels[len(train):]
    metrics = {
        "labeler": preset.labeler,
        "alignment": labeler.alignment(test_labels, test),
        "alignment_high_confidence": labeler.alignment(test_labels, test, min_confidence=8),
        "position_bias": labeler.position_bias(labels),
        "baselines": {
            "random": 0.5,
            "longer_wins": labeler.alignment(labeler.length_labeler(test), test),
            "minilm_similarity": labeler.alignment(labeler.embedding_labeler(test), test),
        },
    }
    if preset.same_size_labeler:  # Table 1's "same-size RLAIF": a labeler as small as the policy
        same = labeler.label_pairs(train, labeler=preset.same_size_labeler, config=preset.label, cache_path=out / "cache.jsonl")
        write_jsonl(out / "labels_train_same_size.jsonl", same)
    if preset.techniques:
        from .labeler_tables import techniques_table

        metrics["techniques"] = techniques_table(test[: preset.n_technique_pairs], train, preset.labeler,
                                                 preset.techniques, preset.label, cache_path=out / "cache.jsonl",
                                                 seed=preset.seed, cot_max_tokens=preset.technique_cot_tokens)
    return metrics


def stage_reward(preset: Preset, out: Path) -> dict:
    """Algorithm 2, second loop: the RLAIF reward model on soft AI labels, and the RLHF baseline's
    reward model on the human labels of the same pairs, both initialised from the SFT policy. For
    comparison, a third one on the AI labels made hard (argmax), as most RLHF code would."""
    from dataclasses import replace

    from .reward import load_reward_model, preference_accuracy, train_reward_model

    train, test = load_pairs(out.parent, "train"), load_pairs(out.parent, "test")
    ai_p = [row["p_a"] for row in read_jsonl(out.parent / "label" / "labels_train.jsonl")]
    human_p = [1.0 if pair["choice"] == 0 else 0.0 for pair in train]
    metrics = {}
    runs = [("ai", ai_p, preset.reward), ("human", human_p, preset.reward),
            ("ai_hard", ai_p, replace(preset.reward, loss="hard"))]
    same_size = out.parent / "label" / "labels_train_same_size.jsonl"
    if same_size.exists():
        runs.append(("ai_same_size", [row["p_a"] for row in read_jsonl(same_size)], preset.reward))
    for name, p_a, config in runs:
        path = train_reward_model(str(out.parent / "sft"), train, p_a, out / name, config)
        acc = preference_accuracy(load_reward_model(path), test)
        acc.pop("p_a")
        metrics[name] = {"accuracy_human": acc["value"], **{k: acc[k] for k in ("ci_low", "ci_high", "n")}}
    return metrics


def gold_reward_fn(posts: dict):
    """TRL reward callable: the gold rater's score of each completion (toy world only)."""

    def gold(prompts, completions, id, **kwargs):
        return [toy_world.gold_score(posts[i], c) for i, c in zip(id, completions)]

    return gold


REWARD_MODELS = {"rlaif": "ai", "rlhf": "human", "rlaif_same_size": "ai_same_size"}  # policy -> reward/<folder>


def reward_for(policy: str, preset: Preset, out: Path):
    """The reward each RL policy of Table 1 optimises: RLAIF and RLHF a reward model (trained on AI
    and on human labels), d-RLAIF the labeler's own 1-10 score with no reward model."""
    from .reward import make_reward_fn

    weight = 1 - preset.rl.beta if preset.rl.weight_reward_by_one_minus_beta else 1.0
    if policy in REWARD_MODELS:
        return make_reward_fn(out.parent / "reward" / REWARD_MODELS[policy], weight=weight)
    if policy != "drlaif":
        raise ValueError(f"unknown RL policy {policy!r}; choose from {sorted([*REWARD_MODELS, 'drlaif'])}")
    from .labeler import make_drlaif_reward

    score = make_drlaif_reward(preset.labeler, preset.label)

    def d_rlaif(prompts, completions, **kwargs):
        return [weight * r for r in score(prompts, completions, **kwargs)]

    return d_rlaif


def stage_rl(preset: Preset, out: Path) -> dict:
    """Algorithm 3: RL from the SFT policy, once per reward (RLAIF, RLHF, d-RLAIF)."""
    from dataclasses import replace

    from datasets import Dataset

    from .rl import train_rl

    prompts = Dataset.from_list(read_jsonl(out.parent / "data" / "rl_prompts.jsonl"))
    gold = gold_reward_fn(toy_posts(preset, "sft")) if is_toy(preset) else None
    metrics = {}
    for policy in preset.rl_policies:
        folder = out / policy
        if not (folder / "curves.json").exists():  # each policy is its own resumable unit
            config = replace(preset.rl, max_steps=preset.drlaif_steps) if policy == "drlaif" else preset.rl
            train_rl(out.parent / "sft", reward_for(policy, preset, out), prompts, folder, config, gold_fn=gold)
        curves = json.loads((folder / "curves.json").read_text())
        metrics[policy] = {k: v[-1] for k, v in curves.items() if v}
    return metrics


def stage_evaluate(preset: Preset, out: Path) -> dict:
    """Sec. 3.2: summaries of held-out posts from each policy, judged pairwise; win rates with CIs."""
    from .evaluate import (ai_judge_preferences, gold_preferences, gold_score_summary, judge_record,
                           length_controlled_win_rate, win_rate)
    from .sft import generate

    rows = read_jsonl(out.parent / "data" / "eval_prompts.jsonl")
    prompts = [r["prompt"] for r in rows]
    policies = {"sft": out.parent / "sft", **{p: out.parent / "rl" / p for p in preset.rl_policies}}
    summaries = {name: [s[0] for s in generate(str(path), prompts, n=1, temperature=preset.eval_temperature,
                                                 max_new_tokens=preset.max_new_tokens, seed=preset.seed, progress=True)]
                 for name, path in policies.items()}
    write_jsonl(out / "summaries.jsonl", [{"id": r["id"], "reference": r["reference"], **{k: v[i] for k, v in summaries.items()}}
                                          for i, r in enumerate(rows)])
    judge_info = judge_record(is_toy(preset), preset.judge, preset.labeler, preset.same_size_labeler)  # [device]
    metrics = {"judge": judge_info, "win_rate": {}, "win_rate_length_controlled": {}}
    if is_toy(preset):
        posts = toy_posts(preset, "eval")
        post_list = [posts[r["id"]] for r in rows]
        summaries["reference"] = [p.reference for p in post_list]
        metrics["gold_score"] = {name: gold_score_summary(post_list, summ) for name, summ in summaries.items()}

        def judge(a, b):
            return gold_preferences(post_list, summaries[a], summaries[b])
    else:
        def judge(a, b):
            return ai_judge_preferences(prompts, summaries[a], summaries[b], judge_info["name"], preset.label,
                                        cache_path=out / "judge_cache.jsonl")
    comparisons = [(p, "sft") for p in preset.rl_policies]
    if {"rlaif", "rlhf"} <= set(preset.rl_policies):
        comparisons.append(("rlaif", "rlhf"))
    for a, b in comparisons:
        name = f"{a}_vs_{b}"
        prefs = judge(a, b)
        metrics["win_rate"][name] = win_rate(prefs)
        if b == "sft" and a in REWARD_MODELS:  # length control for the reward-model policies (Table 8)
            metrics["win_rate_length_controlled"][name] = length_controlled_win_rate(prefs, summaries[a], summaries[b])
    return metrics


# ----------------------------------------------------------------------------- the run
def run(preset: Preset, out, stages=STAGES) -> dict:
    """Run (or resume) the pipeline for `preset` in folder `out`; write and return metrics.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    configure_device(preset.device)  # [device] the preset's device unless $RLAIF_DEVICE says otherwise
    if distributed.is_main_process():  # [device]
        (out / "preset.json").write_text(json.dumps(asdict(preset), indent=1, default=str))
    fns = {"data": stage_data, "sft": stage_sft, "sample": stage_sample, "label": stage_label,
           "reward": stage_reward, "rl": stage_rl, "evaluate": stage_evaluate}
    results = {name: run_stage(out, name, fns[name], preset) for name in STAGES if name in stages}
    metrics = collect_metrics(preset, results)
    if not distributed.is_main_process():  # [device] only rank 0 writes artefacts
        return metrics
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    from .report import write_report

    write_report(out, metrics)
    return metrics


def position_direction(bias: dict) -> str:
    """Which position a labeler keeps when it keeps one (Table 4's "direction")."""
    if not bias.get("n"):
        return "n/a"
    return "first" if bias["first_pct"] > bias["second_pct"] else "second" if bias["second_pct"] > bias["first_pct"] else "none"


def collect_metrics(preset: Preset, results: dict) -> dict:
    """metrics.json: the headline numbers of each stage, flattened the way the report reads them."""
    m = {"preset": preset.name, "stages": {k: v.get("seconds") for k, v in results.items()}}
    if results.get("sample", {}).get("rater_agreement") is not None:
        m["human_rater_agreement"] = results["sample"]["rater_agreement"]
    if "label" in results:
        lab = results["label"]
        m["labeler"] = {"name": lab["labeler"], "alignment": lab["alignment"]["value"], "alignment_ci": lab["alignment"],
                        "alignment_high_confidence": lab["alignment_high_confidence"],
                        "same_position_pct": lab["position_bias"]["same_position_pct"],
                        "position_bias": lab["position_bias"], "baselines": lab["baselines"],
                        "position_direction": position_direction(lab["position_bias"]),
                        "techniques": lab.get("techniques", [])}
    if "reward" in results:
        m["reward_model"] = results["reward"]["ai"]
        m["reward_model_rlhf"] = results["reward"]["human"]
        m["reward_model_hard_ai_labels"] = results["reward"]["ai_hard"]
        if "ai_same_size" in results["reward"]:
            m["reward_model_same_size"] = results["reward"]["ai_same_size"]
    if "rl" in results:
        m["rl"] = {k: v for k, v in results["rl"].items() if k != "seconds"}
    if "evaluate" in results:
        ev = results["evaluate"]
        m["win_rate"] = ev.get("win_rate")
        m["win_rate_length_controlled"] = ev.get("win_rate_length_controlled")
        m["gold_score"] = ev.get("gold_score")
        m["judge"] = ev.get("judge")
        if "sft" in (ev.get("gold_score") or {}):
            m["sft"] = {"gold_score": ev["gold_score"]["sft"]["value"]}
            m["reference"] = {"gold_score": ev["gold_score"]["reference"]["value"]}
    return m
