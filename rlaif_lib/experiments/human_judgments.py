"""Real human judgments: what the kit's labelers, baselines and a small reward model do on OpenAI's own
comparisons (notebook 02b).

The data is a slice, not the paper's: 1,097 rows of OpenAI's batch 13 (`data.load_comparisons("openai-batch13")`),
every one comparing the SAME pair of OpenAI policies, the 12B SFT policy (`sup4_12b_t0.7`) and its PPO RLHF
policy (`sup4_ppo_rm4_t.7`). The rows are split by post into halves: everything chosen or trained (the labeling
configuration, the few-shot exemplar, the reward model) uses the "selection" half; every number reported is
computed on the "test" half only (inter-annotator agreement is also given on the whole file, to check it
against OpenAI's release).

Every result is {value, ci_low, ci_high, n} with a bootstrap 95% interval (`stats.bootstrap_mean`). n counts
rows (human judgments); a summary pair judged by several workers counts once per judgment, and its AI label,
keyed by `data.pair_id`, is the same for each.

SmolLM2-135M's labels take about 0.7 s a pair on 2 CPU cores (real posts are long), so they are measured once
and committed (`assets/real/smollm2_labels_batch13.json`, PRECOMPUTED); `compute_smollm2_labels` recomputes them:
`python -m rlaif_lib.experiments.human_judgments --out rlaif_lib/assets/real/smollm2_labels_batch13.json`.
"""
from __future__ import annotations

import json
import os
import platform
import random
import time
from datetime import date
from pathlib import Path

import numpy as np

from .. import data
from ..stats import bootstrap_mean, fit_logistic

SOURCE = "openai-batch13"
SLICE_NOTE = ("1,097 rows of OpenAI's batch 13: one pair of OpenAI policies (12B SFT vs its PPO RLHF policy), "
              "a slice, not the paper's data")
SFT_POLICY, RLHF_POLICY = "sup4_12b_t0.7", "sup4_ppo_rm4_t.7"
LABELER = "smollm2-135m-instruct"
LABELS_ASSET = data.REAL / "smollm2_labels_batch13.json"
CONFIGS = {"base-0": ("base", 0), "base-1": ("base", 1), "detailed-0": ("detailed", 0), "detailed-1": ("detailed", 1)}


# ----------------------------------------------------------------------------- the data
def load_pairs(split: str | None = "test") -> list[dict]:
    """Flat pairs (one per human judgment) of batch 13's `split` ("selection", "test" or None for all),
    each with its `pair_id` and the worker who judged it."""
    ds = data.load_comparisons(SOURCE, split=split)
    pairs = data.comparisons_to_pairs(ds)
    for pair, row in zip(pairs, ds):
        pair["pair_id"], pair["worker"] = data.pair_id(pair), row["worker"]
    return pairs


def high_confidence(pairs: list[dict]) -> list[dict]:
    """The pairs whose human strength of preference is >= data.HIGH_CONFIDENCE_STRENGTH (the paper's
    high-confidence pairs: confidence 1, 2, 8 or 9 on OpenAI's 9-point scale)."""
    return [p for p in pairs if (data.preference_strength(p.get("confidence")) or 0) >= data.HIGH_CONFIDENCE_STRENGTH]


def unique_pairs(pairs: list[dict]) -> list[dict]:
    """One pair per `data.pair_id` (the first), in order: what a labeler needs to label."""
    seen, out = set(), []
    for p in pairs:
        key = data.pair_id(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def seeded_subset(pairs: list[dict], n: int | None, seed: int = 0) -> list[dict]:
    """n distinct pairs (by pair_id) drawn with `seed`, in the order drawn; all of them when n is None."""
    pool = unique_pairs(pairs)
    if n is None or n >= len(pool):
        return pool
    return random.Random(seed).sample(pool, n)


# ----------------------------------------------------------------------------- SmolLM2's labels, measured once
def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores visible, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, CPU"


def _keep(row: dict) -> dict:
    """A label row as committed: label_pairs's fields, floats rounded to 6 digits."""
    r = lambda x: round(float(x), 6)  # noqa: E731
    return {"id": str(row["id"]), "p_a": r(row["p_a"]), "probs_ab": [r(x) for x in row["probs_ab"]],
            "probs_ba": [r(x) for x in row["probs_ba"]], "other_mass": r(row["other_mass"]),
            "same_position": bool(row["same_position"]), "position": row["position"],
            "truncated": bool(row.get("truncated", False))}


def _label(pairs, name: str, exemplars, cache_path, labeler=LABELER, base=None) -> tuple[dict, float]:
    from dataclasses import replace

    from ..method.labeling import LabelConfig, label_pairs

    preamble, shots = CONFIGS[name]
    start = time.time()
    config = replace(base or LabelConfig(), preamble=preamble, shots=shots)
    rows = label_pairs(pairs, labeler, config, exemplars=exemplars[:shots],
                       cache_path=cache_path, progress=False)
    seconds = time.time() - start
    print(f"[human_judgments] {name}: {len(pairs)} pairs in {seconds:.0f} s", flush=True)
    return {data.pair_id(p): _keep(r) for p, r in zip(pairs, rows)}, seconds


def compute_smollm2_labels(n_selection: int | None = 50, n_test_subset: int | None = None, seed: int = 0,
                           cache_path="/tmp/rlaif_human_judgments_labels.jsonl", labeler=LABELER,
                           selection=None, test=None, base=None, configs=tuple(CONFIGS)) -> dict:
    """SmolLM2-135M's labels on batch 13, in the shape of the committed asset:
    1. every configuration named in `configs` (CONFIGS: Base / Detailed, 0 / 1-shot; the exemplar chosen from the
       selection half by `select_exemplars`) labels a seeded subset of `n_selection` selection pairs (its
       exemplar's post left out), and the configuration with the best alignment there is chosen (`selection.choose`);
    2. the chosen configuration labels the whole test half; the others the whole half too (`n_test_subset`
       None, as committed: about 25 minutes in all on 2 cores) or a seeded subset of that many test pairs.
    `base`: the LabelConfig whose other fields every configuration keeps (default LabelConfig()); `selection`,
    `test`: the halves' pairs (default `load_pairs`).
    Labels go through `label_pairs`'s disk cache at `cache_path`, so an interrupted job resumes."""
    from ..method.labeling import select_exemplars
    from .selection import choose

    selection = load_pairs("selection") if selection is None else selection
    test = load_pairs("test") if test is None else test
    exemplars = select_exemplars(selection, 1, seed=seed)
    held = {data.normalize_post(e["post"]) for e in exemplars}
    sel = seeded_subset([p for p in selection if data.normalize_post(p["post"]) not in held], n_selection, seed)
    labels, seconds, rows = {}, {}, []
    for name in configs:
        got, s = _label(sel, name, exemplars, cache_path, labeler, base)
        labels[name], seconds[name] = {"selection": got}, {"selection": round(s, 1)}
        score = alignment_of(got, [p for p in selection if p["pair_id"] in got])
        rows.append({"config": name, "preamble": CONFIGS[name][0], "shots": CONFIGS[name][1], "cot": False,
                     "alignment": score["value"], "ci_low": score["ci_low"], "ci_high": score["ci_high"],
                     "n": score["n"]})
    chosen = choose(rows)["config"]
    subset = seeded_subset(test, n_test_subset, seed)
    for name in [chosen] + [c for c in configs if c != chosen]:
        got, s = _label(unique_pairs(test) if name == chosen else subset, name, exemplars, cache_path, labeler, base)
        labels[name]["test"], seconds[name]["test"] = got, round(s, 1)
    n_labelled = sum(len(v) for d in labels.values() for v in d.values())
    total = sum(v for d in seconds.values() for v in d.values())
    return {
        "what": "PRECOMPUTED: SmolLM2-135M-Instruct's soft labels on OpenAI's batch 13 comparisons, keyed by "
                "data.pair_id, per configuration and half; " + SLICE_NOTE,
        "labeler": str(labeler), "source": SOURCE, "seed": seed, "date": date.today().isoformat(),
        "machine": _machine(), "seconds": seconds, "seconds_total": round(total, 1),
        "pairs_per_second": round(n_labelled / total, 3) if total else None,
        "configs": {name: {"preamble": CONFIGS[name][0], "shots": CONFIGS[name][1], "cot": False} for name in configs},
        "exemplars": [{"pair_id": data.pair_id(e), "swapped": bool(e.get("swapped", False))} for e in exemplars],
        "selection": {"n_pairs": len(sel), "of": len(unique_pairs(selection)), "rows": rows, "chosen": chosen,
                      "how": "a seeded subset of the selection half's distinct pairs (the exemplar's post left out); "
                             "chosen by alignment over its rows, ties to the cheaper configuration"},
        "test": {"chosen_pairs": len(unique_pairs(test)), "subset_pairs": len(subset),
                 "how": "the chosen configuration on every distinct test pair; the others on " +
                        ("every one too" if len(subset) == len(unique_pairs(test)) else
                         f"a seeded subset of {len(subset)} (seed {seed})")},
        "labels": labels,
    }


def load_smollm2_labels(path=LABELS_ASSET) -> dict:
    """The committed SmolLM2 labels (PRECOMPUTED; `compute_smollm2_labels` recomputes them)."""
    return json.loads(Path(path).read_text())


# ----------------------------------------------------------------------------- alignment
def alignment_of(labels_by_pair: dict, pairs: list[dict], min_strength=None) -> dict:
    """Alignment with the human choice (`method.labeling.alignment`) of labels keyed by pair_id, over the
    `pairs` (human judgments) that have a label."""
    from ..method.labeling.metrics import alignment

    rows = [p for p in pairs if data.pair_id(p) in labels_by_pair]
    labels = [dict(labels_by_pair[data.pair_id(p)], pair_id=data.pair_id(p)) for p in unique_pairs(rows)]
    return alignment(labels, rows, min_strength=min_strength)



def labeler_labels(asset: dict, split: str = "test", pairs: list[dict] | None = None) -> dict:
    """{configuration name: labels keyed by pair_id} of the committed SmolLM2 labels on `split`; with
    `pairs`, only the labels of those pairs (a slice of the half)."""
    keep = None if pairs is None else {data.pair_id(p) for p in pairs}
    return {name: {k: v for k, v in halves[split].items() if keep is None or k in keep}
            for name, halves in asset["labels"].items() if split in halves}


def baseline_labels(pairs: list[dict], seed: int = 0) -> dict:
    """Labels keyed by pair_id of the labelers that know nothing about quality: a coin flip, "the longer
    summary wins" and MiniLM similarity of post and summary (`method.labeling.baselines`)."""
    from ..method.labeling.baselines import embedding_labeler, length_labeler, random_labeler

    distinct = unique_pairs(pairs)
    keys = [data.pair_id(p) for p in distinct]
    return {name: dict(zip(keys, fn(distinct))) for name, fn in
            (("random", lambda ps: random_labeler(ps, seed=seed)), ("longer wins", length_labeler),
             ("MiniLM similarity", embedding_labeler))}


def alignment_table(labels: dict, pairs: list[dict]) -> list[dict]:
    """One row per labeler in `labels` ({name: labels keyed by pair_id}): its alignment with the human
    choice on every pair of `pairs` it labelled and on the high-confidence ones, each {value, ci_low,
    ci_high, n}."""
    return [{"labeler": name, "all": alignment_of(by_pair, pairs),
             "high_confidence": alignment_of(by_pair, pairs, min_strength=data.HIGH_CONFIDENCE_STRENGTH)}
            for name, by_pair in labels.items()]


def position_bias_of(labels_by_pair: dict) -> dict:
    """Table 4 on real pairs: % of pairs whose preferred position is the same after the swap, which
    position that is (`position_direction`), and the % of calls that answered "1" (`position_bias`)."""
    from ..method.labeling.metrics import position_bias, position_direction

    bias = position_bias(list(labels_by_pair.values()))
    same = bootstrap_mean([float(x["same_position"]) for x in labels_by_pair.values()])
    return {**bias, "same_position": same, "direction": position_direction(bias)}


# ----------------------------------------------------------------------------- agreement between workers
def _winner(pair: dict) -> str:
    return pair["summary_a"] if pair["choice"] == 0 else pair["summary_b"]


def agreement_indicators(pairs: list[dict]) -> list[float]:
    """For every two judgments of the same comparison (same post, same two summaries in either order) by
    different workers: 1.0 if they chose the same summary, else 0.0."""
    from itertools import combinations

    groups: dict = {}
    for p in pairs:
        groups.setdefault((str(p["id"]), frozenset((p["summary_a"], p["summary_b"]))), []).append(p)
    return [float(_winner(x) == _winner(y)) for rows in groups.values() for x, y in combinations(rows, 2)
            if x.get("worker") != y.get("worker")]


def inter_annotator_agreement(pairs: list[dict]) -> dict:
    """Share of agreeing label pairs among the multiply-labelled comparisons of `pairs` (the ceiling a
    labeler is measured against), {value, ci_low, ci_high, n}, n = pairs of labels. The interval
    resamples label pairs as if independent; the 40 comparisons they come from make it optimistic."""
    return bootstrap_mean(agreement_indicators(pairs))


# ----------------------------------------------------------------------------- RLHF vs SFT, and length
def _words(text: str) -> int:
    return max(len(text.split()), 1)


def _policy_sides(pairs: list[dict], policy: str) -> list[tuple[dict, int]]:
    """(pair, position of `policy`'s summary: 0 = summary_a, 1 = summary_b) for the pairs where exactly
    one summary comes from `policy`."""
    return [(p, 0 if p["policy_a"] == policy else 1) for p in pairs
            if (p["policy_a"] == policy) != (p["policy_b"] == policy)]


def policy_win_rate(pairs: list[dict], policy: str = RLHF_POLICY) -> dict:
    """How often the human chose `policy`'s summary, whichever position it was shown in (the real
    "RLHF vs SFT" win rate with the default), {value, ci_low, ci_high, n}."""
    return bootstrap_mean([float(p["choice"] == side) for p, side in _policy_sides(pairs, policy)])


def policy_summaries(pairs: list[dict], policy: str = RLHF_POLICY) -> tuple[list[str], list[str], list[float]]:
    """(`policy`'s summaries, the other policy's, 1.0 where the human chose `policy`'s), pair by pair."""
    sides = _policy_sides(pairs, policy)
    mine = [p["summary_a"] if side == 0 else p["summary_b"] for p, side in sides]
    other = [p["summary_b"] if side == 0 else p["summary_a"] for p, side in sides]
    return mine, other, [float(p["choice"] == side) for p, side in sides]


def length_controlled_win_rate(pairs: list[dict], policy: str = RLHF_POLICY, n_boot: int = 1000, seed: int = 0) -> dict:
    """Table 8's length-controlled win rate of `policy` (`method.evaluate.length_controlled_win_rate`: the
    human win rate at equal length, from a logistic fit on log(len ratio)), {value, ci_low, ci_high, n},
    the interval a percentile bootstrap that refits on resampled pairs."""
    from ..method.evaluate import length_controlled_win_rate as lc

    mine, other, won = policy_summaries(pairs, policy)
    if not won:
        return bootstrap_mean([])
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(won), len(won))
        boots.append(lc([won[i] for i in idx], [mine[i] for i in idx], [other[i] for i in idx]))
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"value": lc(won, mine, other), "ci_low": float(lo), "ci_high": float(hi), "n": len(won)}


def word_lengths(pairs: list[dict], policy: str = RLHF_POLICY) -> dict:
    """Mean words of `policy`'s summaries and of the other policy's, and the mean per-pair ratio of the
    two (each {value, ci_low, ci_high, n}): how much longer the RLHF policy writes."""
    mine, other, _ = policy_summaries(pairs, policy)
    return {"policy": bootstrap_mean([_words(s) for s in mine]), "other": bootstrap_mean([_words(s) for s in other]),
            "ratio": bootstrap_mean([_words(a) / _words(b) for a, b in zip(mine, other)])}


# ----------------------------------------------------------------------------- a reward model on real preferences
_EMBEDDINGS: dict = {}  # text -> MiniLM embedding, kept for the process: a second reward model re-embeds nothing


def embed(texts: list[str], batch_size: int = 32, max_length: int = 256) -> np.ndarray:
    """MiniLM sentence embeddings (`models.load_encoder`, mean pooling, unit length, inputs cut at 256 tokens
    as MiniLM was trained), one row per text; texts embedded before in this process are not embedded again."""
    import torch

    from ..models import load_encoder

    todo = sorted({t for t in texts if t not in _EMBEDDINGS}, key=len)  # similar lengths share a batch
    if todo:
        enc, tok = load_encoder()
        for i in range(0, len(todo), batch_size):
            chunk = todo[i:i + batch_size]
            x = tok(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt").to(enc.device)
            with torch.no_grad():
                h = enc(**x).last_hidden_state.float()
            m = x["attention_mask"][..., None].float()
            unit = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
            _EMBEDDINGS.update(zip(chunk, unit.cpu().numpy()))
    return np.array([_EMBEDDINGS[t] for t in texts]).reshape(len(texts), -1)


def pair_features(pairs: list[dict], embed_fn=embed, with_post: bool = True) -> np.ndarray:
    """One row per pair: e(summary_a) - e(summary_b), and with `with_post` also e(post) * (e(a) - e(b))
    (which summary is closer to the post, dimension by dimension). Swapping a and b negates the row, so a
    reward model on it scores r(a) - r(b) for a reward r linear in these features."""
    fields = ("summary_a", "summary_b", "post") if with_post else ("summary_a", "summary_b")
    texts = sorted({p[f] for p in pairs for f in fields})
    vec = dict(zip(texts, embed_fn(texts))) if texts else {}
    diff = np.array([vec[p["summary_a"]] - vec[p["summary_b"]] for p in pairs])
    return np.hstack([diff, np.array([vec[p["post"]] for p in pairs]) * diff]) if with_post else diff


def train_embedding_rm(features: np.ndarray, choices, ridge: float = 1.0) -> np.ndarray:
    """A logistic head (`stats.fit_logistic`) on pair features: P(summary_a preferred) = sigmoid(x @ w).
    Each pair is also shown swapped (-x, the other choice), so the head has no position to learn and its
    bias is zero. Returns w (no bias)."""
    y = (np.asarray(choices) == 0).astype(float)
    w = fit_logistic(np.vstack([features, -features]), np.concatenate([y, 1 - y]), ridge=ridge)
    return w[1:]


def rm_accuracy(w: np.ndarray, features: np.ndarray, choices) -> dict:
    """Share of pairs where the reward model's margin x @ w favours the human's choice (a zero margin
    counts 1/2), {value, ci_low, ci_high, n}."""
    margin = features @ w
    return bootstrap_mean([0.5 if m == 0 else float((m > 0) == (c == 0)) for m, c in zip(margin, choices)])


def choose_ridge(features: np.ndarray, choices, groups, ridges=(0.1, 1.0, 10.0, 100.0), folds: int = 5) -> float:
    """The ridge with the best cross-validated accuracy on the training pairs, folds by `groups` (the
    post, so no post is in two folds); ties go to the stronger ridge."""
    keys = sorted(set(groups))
    fold = {g: i % folds for i, g in enumerate(random.Random(0).sample(keys, len(keys)))}
    f = np.array([fold[g] for g in groups])
    choices = np.asarray(choices)
    scores = {}
    for r in ridges:
        hits = []
        for k in range(folds):
            w = train_embedding_rm(features[f != k], choices[f != k], ridge=r)
            hits.append(rm_accuracy(w, features[f == k], choices[f == k])["value"] * (f == k).sum())
        scores[r] = sum(hits) / len(f)
    return max(sorted(ridges, reverse=True), key=lambda r: scores[r])


def embedding_reward_model(train: list[dict], test: list[dict], embed_fn=embed, with_post: bool = True,
                           tolerance: int = 2) -> dict:
    """A reward model on real human preferences in seconds: MiniLM stays frozen, a logistic head is fit on
    the `train` pairs (the selection half; ridge by cross-validation over posts there) and scored on the
    `test` pairs. Returns its test accuracy beside longer-wins on the same pairs, and what it learned: the
    correlation of its margin with the word-length difference, and its accuracy on pairs whose lengths
    differ by at most `tolerance` words (where length cannot help)."""
    from ..method.labeling.baselines import length_labeler

    x_train, x_test = pair_features(train, embed_fn, with_post), pair_features(test, embed_fn, with_post)
    c_train, c_test = [p["choice"] for p in train], np.array([p["choice"] for p in test])
    ridge = choose_ridge(x_train, c_train, [str(p["id"]) for p in train])
    w = train_embedding_rm(x_train, c_train, ridge=ridge)
    margin = x_test @ w
    length_diff = np.array([_words(p["summary_a"]) - _words(p["summary_b"]) for p in test], dtype=float)
    near = np.abs(length_diff) <= tolerance
    longer = [0.5 if x["p_a"] == 0.5 else float((x["p_a"] > 0.5) == (c == 0))
              for x, c in zip(length_labeler(test), c_test)]
    return {"accuracy": rm_accuracy(w, x_test, c_test), "train_accuracy": rm_accuracy(w, x_train, c_train),
            "longer_wins": bootstrap_mean(longer), "ridge": ridge, "features": int(x_train.shape[1]),
            "n_train": len(train),
            "margin_length_corr": float(np.corrcoef(margin, length_diff)[0, 1]) if len(test) > 2 else float("nan"),
            "near_equal_length": rm_accuracy(w, x_test[near], c_test[near]), "tolerance_words": tolerance,
            "longer_wins_near_equal_length": bootstrap_mean([v for v, k in zip(longer, near) if k])}


# ----------------------------------------------------------------------------- sentences from the numbers
def verdict(a: dict, b: dict, name_a: str, name_b: str) -> str:
    """"A beats B", "A loses to B" or "A and B cannot be told apart at this n", from the two 95% intervals
    (disjoint intervals make a difference, overlapping ones do not)."""
    if a["ci_low"] > b["ci_high"]:
        return f"{name_a} beats {name_b}"
    if a["ci_high"] < b["ci_low"]:
        return f"{name_a} loses to {name_b}"
    return f"{name_a} and {name_b} cannot be told apart at this n"


def versus_chance(d: dict, name: str, chance: float = 0.5) -> str:
    """Where `name`'s interval lies relative to `chance`: "beats a coin flip", "does worse than a coin flip",
    or "cannot be told apart from a coin flip at this n"."""
    from ..readings import interval, side_of

    iv = interval(d)
    if iv is None:
        return f"{name}: not measured"
    return {"above": f"{name} beats a coin flip", "below": f"{name} does worse than a coin flip",
            "contains": f"{name} cannot be told apart from a coin flip at this n"}[side_of(iv, chance)]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Recompute SmolLM2-135M's labels on batch 13 (the committed asset).")
    parser.add_argument("--selection-pairs", type=int, default=50, help="distinct selection pairs to choose on")
    parser.add_argument("--test-subset", type=int, default=0,
                        help="distinct test pairs for the configurations not chosen (0: all)")
    parser.add_argument("--cache", default="/tmp/rlaif_human_judgments_labels.jsonl")
    parser.add_argument("--out", default=None,
                        help="write the JSON here (e.g. rlaif_lib/assets/real/smollm2_labels_batch13.json)")
    args = parser.parse_args()
    result = compute_smollm2_labels(args.selection_pairs, args.test_subset or None, cache_path=args.cache)
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print({k: result[k] for k in ("seconds", "pairs_per_second")}, result["selection"]["rows"],
          result["selection"]["chosen"])
