"""The paper end to end, one stage after another, each reading the previous stage's artefacts.

    data -> sft -> sample -> label -> reward -> rl -> evaluate

Every stage writes into its own folder of the run folder (paths: `run_folder.RunFolder`) and ends
by writing `done.json` (its seconds, its metrics and its provenance). A rerun skips every stage whose
`done.json` exists, so a crashed run resumes where it stopped, and a notebook can pick up a run's
artefacts at any stage. `run` collects the metrics of every finished stage into metrics.json (a run
of some stages merges into it); `report.write_report` turns that into the report (the command line
and the notebooks call it after `run`).

Provenance: a stage's fingerprint hashes the preset fields it reads (STAGE_INPUTS) and the
fingerprint of the stage before it, so it covers everything upstream. A finished stage whose
recorded fingerprint differs from the current preset's is never reused: `run` stops with a
StageMismatchError naming the stage and the changed fields, before anything is written.
`force=("sft",)` (`rlaif run --force sft`) reruns that stage and every stage after it. Inside the RL
stage each policy records the stage's fingerprint it is trained under, and a resumed RL stage retrains
a policy trained under another (`stage_rl`).
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, replace
from pathlib import Path

from . import data, distributed, estimate, toy_world
from .data import load_run_pairs
from .device import configure as configure_device
from .method.rewards import POLICY_REWARD_MODEL, gold_reward, policy_reward
from .presets import Preset, base_policy_path, is_toy, toy_posts, with_seed
from .provenance import STAGES, StageMismatchError, check_stage, clear_stage, provenance  # noqa: F401
from .run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl


def stage_data(preset: Preset, run: RunFolder) -> dict:
    """SFT rows, RL prompts and held-out evaluation prompts; stops with a SplitOverlapError if any
    held-out post (evaluation prompts, test pairs) is also a training post (`check_held_out`)."""
    sft_rows = data.load_sft(preset.sft_data, split="train", n=preset.n_sft, seed=preset.seed)
    if is_toy(preset):  # RL prompts carry the post id, so the gold rater can score RL rollouts
        eval_posts = list(toy_posts(preset, "eval").values())[preset.n_test_pairs:]
        rl = [{"id": p.id, "prompt": toy_world.format_prompt(p)} for p in toy_posts(preset, "sft").values()][: preset.n_rl_prompts]
        evaluation = [{"id": p.id, "prompt": toy_world.format_prompt(p), "reference": p.reference} for p in eval_posts]
    else:
        rl = [{"id": f"rl-{i}", "prompt": r["prompt"]} for i, r in enumerate(sft_rows) if i < preset.n_rl_prompts]
        test = data.load_sft(preset.sft_data, split="test", n=preset.n_eval_posts, seed=preset.seed)
        evaluation = [{"id": f"eval-{i}", "prompt": r["prompt"], "reference": r["completion"]} for i, r in enumerate(test)]
    held_out = check_held_out(preset, sft_rows, rl, evaluation)
    write_jsonl(run.sft_rows, sft_rows)
    write_jsonl(run.rl_prompts, rl)
    write_jsonl(run.eval_prompts, evaluation)
    return {"n_sft": len(sft_rows), "n_rl_prompts": len(rl), "n_eval": len(evaluation), "held_out": held_out}


def check_held_out(preset: Preset, sft_rows, rl_prompts: list[dict], evaluation: list[dict]) -> str:
    """Raise data.SplitOverlapError unless every held-out post (evaluation prompts, the human-labelled
    test pairs) is absent from every training set (SFT rows, RL prompts, the pairs the reward model
    learns from), by post text, and by post id where ids are post ids. Returns what was checked."""
    if is_toy(preset):
        pairs_train = [{"id": p.id, "post": p.body} for p in toy_posts(preset, "label").values()]
        pairs_test = [{"id": p.id, "post": p.body} for p in list(toy_posts(preset, "eval").values())[: preset.n_test_pairs]]
        id_sets = ("rl_prompts", "comparisons_train", "eval_prompts", "comparisons_test")
    else:
        pairs_train = data.load_comparisons(preset.comparisons, split="train", n=preset.n_label_posts, seed=preset.seed)
        pairs_test = data.load_comparisons(preset.comparisons, split="validation", n=preset.n_test_pairs, seed=preset.seed)
        id_sets = ("comparisons_train", "comparisons_test")  # the other sets' ids are row numbers
    data.check_disjoint({"sft": sft_rows, "rl_prompts": rl_prompts, "comparisons_train": pairs_train},
                        {"eval_prompts": evaluation, "comparisons_test": pairs_test}, id_sets=id_sets)
    return (f"{len(evaluation)} evaluation prompts and {len(pairs_test)} test pairs share no post (text or id) with "
            f"{len(sft_rows)} SFT rows, {len(rl_prompts)} RL prompts and {len(pairs_train)} training pairs")


def stage_sft(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 1: fine-tune the base policy on the SFT rows."""
    from datasets import Dataset

    from .method.sft import train_sft

    train_sft(base_policy_path(preset), Dataset.from_list(read_jsonl(run.sft_rows)), run.sft, preset.sft)
    losses = read_json(run.sft_loss)
    return {"final_loss": losses[-1]["loss"] if losses else None}


def stage_sample(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 2, first loop: the pairs to label. In the toy world, candidate pairs from the SFT
    policy, labeled by the simulated human raters too (OpenAI's comparisons, reproduced); on real
    data, the dataset's own human comparisons."""
    from .method.labeling.baselines import longer_wins

    labelled = []  # every human-labelled pair of both splits: how often the labels prefer the longer summary
    if not is_toy(preset):
        for split, n, name in (("train", preset.n_label_posts, "train"), ("validation", preset.n_test_pairs, "test")):
            rows = data.load_comparisons(preset.comparisons, split=split, n=n, seed=preset.seed)
            write_jsonl(run.comparisons(name), rows)
            labelled += data.comparisons_to_pairs(rows)
        return {"note": "real data: comparisons come from the dataset", "longer_wins": longer_wins(labelled)}
    from .method.sft import sample_pairs

    rng = random.Random(preset.seed)
    eval_posts = list(toy_posts(preset, "eval").values())[: preset.n_test_pairs]
    counts = {}
    for name, posts in (("train", list(toy_posts(preset, "label").values())), ("test", eval_posts)):
        pairs = sample_pairs(
            str(run.sft), [toy_world.format_prompt(p) for p in posts], [p.id for p in posts],
            n_samples=preset.n_samples, temperature=preset.sample_temperature, max_new_tokens=preset.max_new_tokens,
            seed=preset.seed,
        )
        rows = toy_world.rated_comparisons(posts, pairs, rng, split="train" if name == "train" else "valid1")
        write_jsonl(run.comparisons(name), rows)
        labelled += data.comparisons_to_pairs(rows)
        counts[f"n_{name}_pairs"] = len(rows)
        if name == "train":  # how often two simulated raters agree on *these* pairs (OpenAI's: 73-77% on theirs)
            by_id = {p.id: p for p in posts}
            counts["rater_agreement"] = toy_world.rater_agreement(
                [(by_id[p["id"]], p["summary_a"], p["summary_b"]) for p in pairs], seed=preset.seed)
    counts["longer_wins"] = longer_wins(labelled)
    return counts


EXEMPLAR_POSTS = 16  # posts (toy) or comparison rows (real data) in the few-shot exemplar pool
EXEMPLAR_OFFSET = 1000  # toy: the pool's posts start this far past the label posts (the validation split is between)


def label_exemplars(preset: Preset, run: RunFolder, shots: int | None = None) -> list[dict]:
    """The few-shot exemplars the label stage puts before every pair: `shots` (default `preset.label.shots`) of them,
    picked by `labeling.select_exemplars` from a pool of human-labelled pairs on posts that no
    labelled pair, test pair or evaluation prompt uses ([] for 0-shot). Toy world: SFT samples of
    label-split posts from n_label_posts + EXEMPLAR_OFFSET on, rated by the simulated raters; real data:
    the next EXEMPLAR_POSTS rows of the comparisons' train split. The pool is kept in
    label/exemplar_pool.jsonl, so a notebook rebuilding a prompt by hand gets the stage's exemplars.
    Table 2 and the prompt selection ask for the most shots any of their settings needs."""
    shots = preset.label.shots if shots is None else shots
    if not shots:
        return []
    path = run.stage("label") / "exemplar_pool.jsonl"
    if path.exists():
        rows = read_jsonl(path)
    elif is_toy(preset):
        from .method.sft import sample_pairs

        first = preset.n_label_posts + EXEMPLAR_OFFSET
        posts = toy_world.generate_posts(first + EXEMPLAR_POSTS, "label", seed=preset.seed)[first:]
        sampled = sample_pairs(str(run.sft), [toy_world.format_prompt(p) for p in posts], [p.id for p in posts],
                               n_samples=preset.n_samples, temperature=preset.sample_temperature,
                               max_new_tokens=preset.max_new_tokens, seed=preset.seed + 2, progress=False)
        rows = toy_world.rated_comparisons(posts, sampled, random.Random(f"exemplar-raters:{preset.seed}"), split="exemplars")
    else:
        rows = list(data.load_comparisons(preset.comparisons, split="train", n=preset.n_label_posts + EXEMPLAR_POSTS,
                                          seed=preset.seed))[preset.n_label_posts:]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path, rows)
    used = {p["post"].strip() for split in ("train", "test") for p in load_run_pairs(run, split)}
    pool = [p for p in data.comparisons_to_pairs(rows) if p["post"].strip() not in used]
    from .method.labeling import select_exemplars

    if len(pool) < shots:  # a small local data file: say so; label_pairs stops if the prompt needs them
        print(f"exemplars: {len(pool)} human-labelled pairs on posts no split uses ({path}), {shots} asked for", flush=True)
    return select_exemplars(pool, min(shots, len(pool)), seed=preset.seed) if pool else []


def stage_label(preset: Preset, run: RunFolder) -> dict:
    """Sec. 2.1: soft AI labels for every pair, both orders averaged; alignment on held-out pairs.
    A `simulated:...` labeler (toy world only, a what-if: method/labeling/simulated.py) labels
    here instead of the LLM, into the same files, cache and metrics; it has no Table 2 techniques."""
    from .method import labeling
    from .method.labeling import simulated as sim

    train, test = load_run_pairs(run, "train"), load_run_pairs(run, "test")
    clock = time.time()
    simulated = sim.is_simulated(preset.labeler)
    exemplars = []
    if simulated:
        labels = sim.label_pairs_simulated(train + test, preset.labeler, seed=preset.seed, cache_path=run.label_cache)
    else:
        exemplars = label_exemplars(preset, run)
        labels = labeling.label_pairs(train + test, labeler=preset.labeler, config=preset.label, exemplars=exemplars,
                                      cache_path=run.label_cache)
    labels = with_pair_ids(train + test, labels)
    write_jsonl(run.labels("train"), labels[: len(train)])
    write_jsonl(run.labels("test"), labels[len(train):])
    test_labels = labels[len(train):]
    metrics = {
        "labeler": sim.parse(preset.labeler).name if simulated else preset.labeler,
        "alignment": labeling.alignment(test_labels, test),
        # high confidence = human strength of preference |confidence - 5| >= 3 (data.CONFIDENCE_SCALE_NOTE)
        "alignment_high_confidence": labeling.alignment(test_labels, test, min_strength=data.HIGH_CONFIDENCE_STRENGTH),
        "position_bias": labeling.position_bias(labels),
        "exemplars": [str(e["id"]) for e in exemplars],  # few-shot exemplars (label/exemplar_pool.jsonl)
        "baselines": {
            "random": 0.5,
            "longer_wins": labeling.alignment(labeling.length_labeler(test), test),
            "minilm_similarity": labeling.alignment(labeling.embedding_labeler(test), test),
        },
    }
    if preset.same_size_labeler:  # Table 1's "same-size RLAIF": a labeler as small as the policy
        same = with_pair_ids(train, labeling.label_pairs(train, labeler=preset.same_size_labeler, config=preset.label,
                                                         exemplars=exemplars, cache_path=run.label_cache))
        write_jsonl(run.labels("train_same_size"), same)
    metrics["seconds_by_part"] = {"labels": round(time.time() - clock, 1)}
    if simulated:  # the tables of notebook 02 are about the LLM labeler
        return metrics
    # The labeler tables of notebook 02, computed once here (the notebook only reads them).
    from .method.labeling import tables

    def table(name: str, compute) -> None:  # metrics[name], label/<name>.json and its seconds
        start = time.time()
        metrics[name] = compute()
        write_json(run.label_table(name), metrics[name])
        metrics["seconds_by_part"][name] = round(time.time() - start, 1)

    shots = max((k for _, k, _ in preset.techniques), default=0)  # Table 2's exemplars: the label stage's pool
    pool = label_exemplars(preset, run, shots)
    if len(pool) < shots:  # a small local data file leaves no unused rows: fall back to training pairs (never test)
        print(f"Table 2: {len(pool)} exemplars from unused posts, {shots} needed; using the training pairs", flush=True)
        pool = train
    table("techniques", lambda: tables.techniques_table(
        test[: preset.n_technique_pairs], pool, preset.labeler, preset.techniques, preset.label, cache_path=run.label_cache,
        seed=preset.seed, cot_max_tokens=preset.technique_cot_tokens) if preset.techniques else [])
    cot = replace(preset.label, cot=True, cot_max_tokens=preset.technique_cot_tokens)
    table("self_consistency", lambda: tables.self_consistency_table(
        test[: preset.n_self_consistency_pairs], preset.labeler, preset.self_consistency, base=cot,
        cache_path=run.label_cache, exemplars=exemplars) if preset.self_consistency else [])
    ladder = {preset.labeler: preset.labeler, **{name: name for name in preset.labeler_ladder}}
    table("labeler_size", lambda: tables.labeler_size_table(test, ladder, preset.label, cache_path=run.label_cache,
                                                             exemplars=exemplars))
    return metrics


def with_pair_ids(pairs: list[dict], labels: list[dict]) -> list[dict]:
    """Label rows (in the order of `pairs`, as label_pairs returns them) with each pair's `data.pair_id`;
    raises StageMismatchError if the labels do not line up with the pairs."""
    if len(labels) != len(pairs) or any(str(x["id"]) != str(p["id"]) for x, p in zip(labels, pairs)):
        raise StageMismatchError(f"the labeler returned {len(labels)} labels for {len(pairs)} pairs, or in another order")
    return [dict(x, pair_id=data.pair_id(p)) for x, p in zip(labels, pairs)]


def labels_for(pairs: list[dict], labels: list[dict], source) -> list[float]:
    """P(summary_a preferred) for each pair, joined by `data.pair_id` (never by position). A label file
    with another number of rows than there are pairs, or without some pair, is a StageMismatchError."""
    if len(labels) != len(pairs):
        raise StageMismatchError(f"{source}: {len(labels)} labels for {len(pairs)} pairs; the label stage is out of "
                                 "date with the pairs: rerun it with --force label")
    by_id = {row.get("pair_id"): row for row in labels}
    missing = [data.pair_id(p) for p in pairs if data.pair_id(p) not in by_id]
    if missing:
        raise StageMismatchError(f"{source}: no label for pairs {missing[:3]} (of {len(missing)}); rerun the label "
                                 "stage with --force label")
    return [by_id[data.pair_id(p)]["p_a"] for p in pairs]


def stage_reward(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 2, second loop: the RLAIF reward model on soft AI labels, and the RLHF baseline's
    reward model on the human labels of the same pairs, both initialised from the SFT policy. For
    comparison, a third one on the AI labels made hard (argmax), as most RLHF code would. The
    folder names ("ai", "human", ...) map to metrics.json keys in `rewards.REWARD_MODELS`."""
    from .method.reward import load_reward_model, preference_accuracy, train_reward_model

    train, test = load_run_pairs(run, "train"), load_run_pairs(run, "test")
    ai_p = labels_for(train, read_jsonl(run.labels("train")), run.labels("train"))
    human_p = [1.0 if pair["choice"] == 0 else 0.0 for pair in train]
    runs = [("ai", ai_p, preset.reward), ("human", human_p, preset.reward),
            ("ai_hard", ai_p, replace(preset.reward, loss="hard"))]
    if run.labels("train_same_size").exists():
        same = labels_for(train, read_jsonl(run.labels("train_same_size")), run.labels("train_same_size"))
        runs.append(("ai_same_size", same, preset.reward))
    metrics = {}
    for name, p_a, config in runs:
        path = train_reward_model(str(run.sft), train, p_a, run.reward_model(name), config)
        acc = preference_accuracy(load_reward_model(path), test)
        acc.pop("p_a")
        metrics[name] = {"accuracy_human": acc["value"], **{k: acc[k] for k in ("ci_low", "ci_high", "n")}}
    return metrics


def stage_rl(preset: Preset, run: RunFolder) -> dict:
    """Algorithm 3: RL from the SFT policy, once per reward (RLAIF, RLHF, d-RLAIF; see rewards.py).

    Each policy is its own resumable unit: its folder records the RL stage's fingerprint it is trained
    under (provenance.json, written before training; curves.json, written last, marks it finished), and
    a rerun of an unfinished stage reuses only the policies finished under the current fingerprint
    (`rl_policy_done`). The others are retrained rather than refused: the stage has no done.json yet, so
    it has claimed no result, and a resumed stage owes every policy to the current preset (an RLAIF
    policy of the old settings is never compared with an RLHF policy of the new)."""
    from datasets import Dataset

    from .method.rl import train_rl

    prompts = Dataset.from_list(read_jsonl(run.rl_prompts))
    gold = gold_reward(toy_posts(preset, "sft")) if is_toy(preset) else None
    fingerprint = provenance(preset, "rl")["fingerprint"]
    metrics = {}
    for policy in preset.rl_policies:
        if not rl_policy_done(run, policy, fingerprint):
            if run.rl_curves(policy).exists():
                print(f"[rl] {policy}: trained under other settings (or with no record of them); training it again",
                      flush=True)
            if distributed.is_main_process():  # a stale curves.json goes before the new record is written
                run.rl_curves(policy).unlink(missing_ok=True)
                run.rl_policy(policy).mkdir(parents=True, exist_ok=True)
                write_json(run.rl_provenance(policy), {"policy": policy, "stage": "rl", "fingerprint": fingerprint})
            config = replace(preset.rl, max_steps=preset.drlaif_steps) if policy == "drlaif" else preset.rl
            reward = policy_reward(policy, run, preset.rl, preset.labeler, preset.label)
            train_rl(run.sft, reward, prompts, run.rl_policy(policy), config, gold_fn=gold)
        curves = read_json(run.rl_curves(policy))
        metrics[policy] = {k: v[-1] for k, v in curves.items() if v}
    return metrics


def rl_policy_done(run: RunFolder, policy: str, fingerprint: str) -> bool:
    """True when RL policy `policy` finished (curves.json) and was trained under the RL-stage fingerprint
    `fingerprint` (its provenance.json)."""
    if not (run.rl_curves(policy).exists() and run.rl_provenance(policy).exists()):
        return False
    record = read_json(run.rl_provenance(policy))
    return record.get("fingerprint") == fingerprint and record.get("policy") == policy


def stage_evaluate(preset: Preset, run: RunFolder) -> dict:
    """Sec. 3.2: summaries of held-out posts from each policy, judged pairwise; win rates with CIs."""
    from .method.evaluate import (
        ai_judge_preferences,
        gold_preferences,
        gold_score_summary,
        judge_label_config,
        judge_record,
        length_controlled_win_rate,
        win_rate,
    )
    from .method.sft import generate

    rows = read_jsonl(run.eval_prompts)
    prompts = [r["prompt"] for r in rows]
    policies = {"sft": run.sft, **{p: run.rl_policy(p) for p in preset.rl_policies}}
    summaries = {name: [s[0] for s in generate(str(path), prompts, n=1, temperature=preset.eval_temperature,
                                                 max_new_tokens=preset.max_new_tokens, seed=preset.seed, progress=True)]
                 for name, path in policies.items()}
    write_jsonl(run.summaries, [{"id": r["id"], "reference": r["reference"], **{k: v[i] for k, v in summaries.items()}}
                                for i, r in enumerate(rows)])
    judge_info = judge_record(is_toy(preset), preset.judge, preset.labeler, preset.same_size_labeler)
    metrics = {"judge": judge_info, "win_rate": {}, "win_rate_length_controlled": {},
               "mean_words": {name: sum(len(s.split()) for s in summ) / max(len(summ), 1) for name, summ in summaries.items()}}
    if is_toy(preset):
        posts = toy_posts(preset, "eval")
        post_list = [posts[r["id"]] for r in rows]
        summaries["reference"] = [p.reference for p in post_list]
        metrics["gold_score"] = {name: gold_score_summary(post_list, summ) for name, summ in summaries.items()}

        def judge(a, b):
            return gold_preferences(post_list, summaries[a], summaries[b])
    else:
        def judge(a, b):
            return ai_judge_preferences(prompts, summaries[a], summaries[b], judge_info["name"],
                                        judge_label_config(preset.label), cache_path=run.judge_cache)
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
    """Run stage `name` unless its done.json exists (with this preset's fingerprint: see `check_stage`);
    return its metrics (with its seconds and provenance)."""
    marker = run.done(name)
    if marker.exists():
        check_stage(run, name, preset)
        print(f"[{name}] done already, skipping ({marker})")
        return read_json(marker)
    if not distributed.runs_here(name):  # under torchrun/accelerate, rank 0 alone runs the non-training stages
        return distributed.wait_for(marker)
    run.stage(name).mkdir(parents=True, exist_ok=True)
    print(f"[{name}] running ...", flush=True)
    estimate.announce(preset, name)  # on a GPU: the stage's estimated time and memory, before it starts
    start, cpu = time.time(), time.process_time()
    metrics = fn(preset, run) or {}
    metrics["seconds"] = round(time.time() - start, 1)
    metrics["cpu_seconds"] = round(time.process_time() - cpu, 1)  # all threads of this process; shows load
    metrics["provenance"] = provenance(preset, name)
    if distributed.is_main_process():  # only rank 0 writes artefacts
        write_json(marker, metrics)
    print(f"[{name}] finished in {metrics['seconds']} s", flush=True)
    return metrics


def _check_names(names, what: str) -> list[str]:
    names = list(names or ())
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; the stages are {list(STAGES)}")
    return names


def run(preset: Preset, out, stages=STAGES, force=()) -> dict:
    """Run (or resume) the pipeline for `preset` in folder `out` (a path or a RunFolder); write and
    return metrics.json, which holds every finished stage's numbers (a run of some `stages` merges
    into it). `force`: stages to rerun, each with every stage after it. Raises StageMismatchError,
    before writing anything, if the folder holds a finished stage made from other inputs."""
    from .metrics_json import collect_metrics

    stages, force = _check_names(stages, "stages"), _check_names(force, "stages to force")
    preset = with_seed(preset)
    folder = RunFolder(Path(out))
    folder.root.mkdir(parents=True, exist_ok=True)
    configure_device(preset.device)  # the preset's device, unless $RLAIF_DEVICE says otherwise
    if force:
        first = min(STAGES.index(name) for name in force)
        for name in STAGES[first:]:
            clear_stage(folder, name)
    for name in STAGES:  # no stale stage anywhere in the folder, and so no results of another preset
        if folder.done(name).exists():
            check_stage(folder, name, preset)
    if distributed.is_main_process():
        write_json(folder.preset, asdict(preset), default=str)
    fns = {"data": stage_data, "sft": stage_sft, "sample": stage_sample, "label": stage_label,
           "reward": stage_reward, "rl": stage_rl, "evaluate": stage_evaluate}
    results = {}
    for name in STAGES:
        if name in stages:
            results[name] = run_stage(folder, name, fns[name], preset)
        elif folder.done(name).exists():  # finished earlier: its numbers stay in metrics.json
            results[name] = read_json(folder.done(name))
    results = {name: {k: v for k, v in r.items() if k != "provenance"} for name, r in results.items()}
    metrics = collect_metrics(preset, results)
    if distributed.is_main_process():  # only rank 0 writes metrics.json
        write_json(folder.metrics, metrics)
    return metrics
