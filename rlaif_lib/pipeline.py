"""The paper end to end, one stage after another, each reading the previous stage's artefacts.

    data -> sft -> sample -> label -> reward -> rl -> evaluate

Every stage writes into its own folder of the run folder (paths: `run_folder.RunFolder`) and ends
by writing `done.json` (its seconds and its metrics). A rerun skips every stage whose `done.json`
exists, so a crashed run resumes where it stopped, and a notebook can pick up a run's artefacts at
any stage. `run` collects the stages' metrics into metrics.json and writes the report.
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, replace
from pathlib import Path

from . import data, toy_world
from .presets import Preset, base_policy_path, is_toy, toy_posts
from .rewards import POLICY_REWARD_MODEL, gold_reward, policy_reward
from .run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl

STAGES = ("data", "sft", "sample", "label", "reward", "rl", "evaluate")


def stage_data(preset: Preset, run: RunFolder) -> dict:
    """SFT rows, RL prompts and held-out evaluation prompts."""
    sft_rows = data.load_sft(preset.sft_data, split="train", n=preset.n_sft, seed=preset.seed)
    write_jsonl(run.sft_rows, sft_rows)
    if is_toy(preset):  # RL prompts carry the post id, so the gold rater can score RL rollouts
        eval_posts = list(toy_posts(preset, "eval").values())[preset.n_test_pairs:]
        rl = [{"id": p.id, "prompt": toy_world.format_prompt(p)} for p in toy_posts(preset, "sft").values()][: preset.n_rl_prompts]
        evaluation = [{"id": p.id, "prompt": toy_world.format_prompt(p), "reference": p.reference} for p in eval_posts]
    else:
        rl = [{"id": f"rl-{i}", "prompt": r["prompt"]} for i, r in enumerate(sft_rows) if i < preset.n_rl_prompts]
        test = data.load_sft(preset.sft_data, split="test", n=preset.n_eval_posts, seed=preset.seed)
        evaluation = [{"id": f"eval-{i}", "prompt": r["prompt"], "reference": r["completion"]} for i, r in enumerate(test)]
    write_jsonl(run.rl_prompts, rl)
    write_jsonl(run.eval_prompts, evaluation)
    return {"n_sft": len(sft_rows), "n_rl_prompts": len(rl), "n_eval": len(evaluation)}


def stage_sft(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 1: fine-tune the base policy on the SFT rows."""
    from datasets import Dataset

    from .sft import train_sft

    train_sft(base_policy_path(preset), Dataset.from_list(read_jsonl(run.sft_rows)), run.sft, preset.sft)
    losses = read_json(run.sft_loss)
    return {"final_loss": losses[-1]["loss"] if losses else None}


def stage_sample(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 2, first loop: the pairs to label. In the toy world, candidate pairs from the SFT
    policy, labeled by the simulated human raters too (OpenAI's comparisons, reproduced); on real
    data, the dataset's own human comparisons."""
    if not is_toy(preset):
        for split, n, name in (("train", preset.n_label_posts, "train"), ("validation", preset.n_test_pairs, "test")):
            rows = data.load_comparisons(preset.comparisons, split=split, n=n, seed=preset.seed)
            write_jsonl(run.comparisons(name), rows)
        return {"note": "real data: comparisons come from the dataset"}
    from .sft import sample_pairs

    rng = random.Random(preset.seed)
    eval_posts = list(toy_posts(preset, "eval").values())[: preset.n_test_pairs]
    counts = {}
    for name, posts in (("train", list(toy_posts(preset, "label").values())), ("test", eval_posts)):
        pairs = sample_pairs(
            str(run.sft), [toy_world.format_prompt(p) for p in posts], [p.id for p in posts],
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
        write_jsonl(run.comparisons(name), rows)
        counts[f"n_{name}_pairs"] = len(rows)
        if name == "train":  # how often two simulated raters agree on *these* pairs (OpenAI's: 73-77% on theirs)
            counts["rater_agreement"] = toy_world.rater_agreement(
                [(by_id[p["id"]], p["summary_a"], p["summary_b"]) for p in pairs], seed=preset.seed)
    return counts


def stage_label(preset: Preset, run: RunFolder) -> dict:
    """Sec. 2.1: soft AI labels for every pair, both orders averaged; alignment on held-out pairs."""
    from . import labeling

    train, test = run.load_pairs("train"), run.load_pairs("test")
    clock = time.time()
    labels = labeling.label_pairs(train + test, labeler=preset.labeler, config=preset.label, cache_path=run.label_cache)
    write_jsonl(run.labels("train"), labels[: len(train)])
    write_jsonl(run.labels("test"), labels[len(train):])
    test_labels = labels[len(train):]
    metrics = {
        "labeler": preset.labeler,
        "alignment": labeling.alignment(test_labels, test),
        "alignment_high_confidence": labeling.alignment(test_labels, test, min_confidence=8),
        "position_bias": labeling.position_bias(labels),
        "baselines": {
            "random": 0.5,
            "longer_wins": labeling.alignment(labeling.length_labeler(test), test),
            "minilm_similarity": labeling.alignment(labeling.embedding_labeler(test), test),
        },
    }
    if preset.same_size_labeler:  # Table 1's "same-size RLAIF": a labeler as small as the policy
        same = labeling.label_pairs(train, labeler=preset.same_size_labeler, config=preset.label,
                                    cache_path=run.label_cache)
        write_jsonl(run.labels("train_same_size"), same)
    metrics["seconds_by_part"] = {"labels": round(time.time() - clock, 1)}
    # The labeler tables of notebook 02, computed once here (the notebook only reads them).
    from .labeling import tables

    clock = time.time()
    metrics["techniques"] = tables.techniques_table(
        test[: preset.n_technique_pairs], train, preset.labeler, preset.techniques, preset.label, cache_path=run.label_cache,
        seed=preset.seed, cot_max_tokens=preset.technique_cot_tokens) if preset.techniques else []
    write_json(run.label_table("techniques"), metrics["techniques"])
    metrics["seconds_by_part"]["techniques"] = round(time.time() - clock, 1)
    clock = time.time()
    cot = replace(preset.label, cot=True, cot_max_tokens=preset.technique_cot_tokens)
    metrics["self_consistency"] = tables.self_consistency_table(
        test[: preset.n_self_consistency_pairs], preset.labeler, preset.self_consistency, base=cot,
        cache_path=run.label_cache) if preset.self_consistency else []
    write_json(run.label_table("self_consistency"), metrics["self_consistency"])
    metrics["seconds_by_part"]["self_consistency"] = round(time.time() - clock, 1)
    clock = time.time()
    ladder = {preset.labeler: preset.labeler, **{name: name for name in preset.labeler_ladder}}
    metrics["labeler_size"] = tables.labeler_size_table(test, ladder, preset.label, cache_path=run.label_cache)
    write_json(run.label_table("labeler_size"), metrics["labeler_size"])
    metrics["seconds_by_part"]["labeler_size"] = round(time.time() - clock, 1)
    return metrics


def stage_reward(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 2, second loop: the RLAIF reward model on soft AI labels, and the RLHF baseline's
    reward model on the human labels of the same pairs, both initialised from the SFT policy. For
    comparison, a third one on the AI labels made hard (argmax), as most RLHF code would. The
    folder names ("ai", "human", ...) map to metrics.json keys in `rewards.REWARD_MODELS`."""
    from .reward import load_reward_model, preference_accuracy, train_reward_model

    train, test = run.load_pairs("train"), run.load_pairs("test")
    ai_p = [row["p_a"] for row in read_jsonl(run.labels("train"))]
    human_p = [1.0 if pair["choice"] == 0 else 0.0 for pair in train]
    runs = [("ai", ai_p, preset.reward), ("human", human_p, preset.reward),
            ("ai_hard", ai_p, replace(preset.reward, loss="hard"))]
    if run.labels("train_same_size").exists():
        runs.append(("ai_same_size", [row["p_a"] for row in read_jsonl(run.labels("train_same_size"))], preset.reward))
    metrics = {}
    for name, p_a, config in runs:
        path = train_reward_model(str(run.sft), train, p_a, run.reward_model(name), config)
        acc = preference_accuracy(load_reward_model(path), test)
        acc.pop("p_a")
        metrics[name] = {"accuracy_human": acc["value"], **{k: acc[k] for k in ("ci_low", "ci_high", "n")}}
    return metrics


def stage_rl(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 3: RL from the SFT policy, once per reward (RLAIF, RLHF, d-RLAIF; see rewards.py)."""
    from datasets import Dataset

    from .rl import train_rl

    prompts = Dataset.from_list(read_jsonl(run.rl_prompts))
    gold = gold_reward(toy_posts(preset, "sft")) if is_toy(preset) else None
    metrics = {}
    for policy in preset.rl_policies:
        if not run.rl_curves(policy).exists():  # each policy is its own resumable unit
            config = replace(preset.rl, max_steps=preset.drlaif_steps) if policy == "drlaif" else preset.rl
            reward = policy_reward(policy, run, preset.rl, preset.labeler, preset.label)
            train_rl(run.sft, reward, prompts, run.rl_policy(policy), config, gold_fn=gold)
        curves = read_json(run.rl_curves(policy))
        metrics[policy] = {k: v[-1] for k, v in curves.items() if v}
    return metrics


def stage_evaluate(preset: Preset, run: RunFolder) -> dict:
    """Sec. 3.2: summaries of held-out posts from each policy, judged pairwise; win rates with CIs."""
    from .evaluate import (ai_judge_preferences, gold_preferences, gold_score_summary, length_controlled_win_rate,
                           win_rate)
    from .sft import generate

    rows = read_jsonl(run.eval_prompts)
    prompts = [r["prompt"] for r in rows]
    policies = {"sft": run.sft, **{p: run.rl_policy(p) for p in preset.rl_policies}}
    summaries = {name: [s[0] for s in generate(str(path), prompts, n=1, temperature=preset.eval_temperature,
                                                 max_new_tokens=preset.max_new_tokens, seed=preset.seed, progress=True)]
                 for name, path in policies.items()}
    write_jsonl(run.summaries, [{"id": r["id"], "reference": r["reference"], **{k: v[i] for k, v in summaries.items()}}
                                for i, r in enumerate(rows)])
    metrics = {"judge": "simulated human rater (gold score)" if is_toy(preset) else f"AI labeler {preset.labeler}, both orders",
               "win_rate": {}, "win_rate_length_controlled": {}}
    if is_toy(preset):
        posts = toy_posts(preset, "eval")
        post_list = [posts[r["id"]] for r in rows]
        summaries["reference"] = [p.reference for p in post_list]
        metrics["gold_score"] = {name: gold_score_summary(post_list, summ) for name, summ in summaries.items()}

        def judge(a, b):
            return gold_preferences(post_list, summaries[a], summaries[b])
    else:
        def judge(a, b):
            return ai_judge_preferences(prompts, summaries[a], summaries[b], preset.labeler, preset.label,
                                        cache_path=run.judge_cache)
    comparisons = [(p, "sft") for p in preset.rl_policies]
    if {"rlaif", "rlhf"} <= set(preset.rl_policies):
        comparisons.append(("rlaif", "rlhf"))
    for a, b in comparisons:
        name = f"{a}_vs_{b}"
        prefs = judge(a, b)
        metrics["win_rate"][name] = win_rate(prefs)
        if b == "sft" and a in POLICY_REWARD_MODEL:  # length control for the reward-model policies (Table 8)
            metrics["win_rate_length_controlled"][name] = length_controlled_win_rate(prefs, summaries[a], summaries[b])
    return metrics


# ----------------------------------------------------------------------------- the run
def run_stage(run: RunFolder, name: str, fn, preset: Preset) -> dict:
    """Run stage `name` unless its done.json exists; return its metrics (with its seconds)."""
    marker = run.done(name)
    if marker.exists():
        print(f"[{name}] done already, skipping ({marker})")
        return read_json(marker)
    run.stage(name).mkdir(parents=True, exist_ok=True)
    print(f"[{name}] running ...", flush=True)
    start, cpu = time.time(), time.process_time()
    metrics = fn(preset, run) or {}
    metrics["seconds"] = round(time.time() - start, 1)
    metrics["cpu_seconds"] = round(time.process_time() - cpu, 1)  # all threads of this process; shows load
    write_json(marker, metrics)
    print(f"[{name}] finished in {metrics['seconds']} s", flush=True)
    return metrics


def run(preset: Preset, out, stages=STAGES) -> dict:
    """Run (or resume) the pipeline for `preset` in folder `out` (a path or a RunFolder); write and
    return metrics.json."""
    from .metrics_json import collect_metrics
    from .report import write_report

    folder = RunFolder(Path(out))
    folder.root.mkdir(parents=True, exist_ok=True)
    write_json(folder.preset, asdict(preset), default=str)
    fns = {"data": stage_data, "sft": stage_sft, "sample": stage_sample, "label": stage_label,
           "reward": stage_reward, "rl": stage_rl, "evaluate": stage_evaluate}
    results = {name: run_stage(folder, name, fns[name], preset) for name in STAGES if name in stages}
    metrics = collect_metrics(preset, results)
    write_json(folder.metrics, metrics)
    write_report(folder, metrics)
    return metrics
