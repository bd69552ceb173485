"""The AI labeler (Sec. 2.1): an off-the-shelf LLM turns a pair of summaries into a soft preference.

`label_pairs` is the whole procedure: each pair is put into the paper's prompt (`prompts.py`) in
both orders; the soft label of one order is the softmax over the log-probabilities of the tokens
"1" and "2" at the next position (`scoring.py`); the two orders are averaged (Sec. 2.1.1), which
removes the labeler's position bias from the label. Chain of thought (Sec. 2.1.2) first decodes a
rationale, then scores "1" vs "2" after it. Finished pairs go to a disk cache (`cache.py`) so a
killed run resumes without relabeling. With `LabelConfig(use_vllm=True)`, no CoT, a labeler given
by name, a GPU and the `vllm` package, the "1"/"2" log-probabilities come from vLLM
(`vllm_scoring.py`) instead of the transformers scorer; otherwise one line says why not.
"""
from __future__ import annotations

import random

from .cache import LabelCache, pair_key
from .prompts import ENDING, LabelConfig, render_prompt, truncate_post, validate_pairs
from .scoring import answer_token_ids, label_batch_size, load_labeler, sample_continuations, score_rows, two_way


def label_pairs(pairs: list[dict], labeler="smollm2-135m-instruct", config: LabelConfig = LabelConfig(),
                exemplars=(), cache_path=None, progress: bool = True) -> list[dict]:
    """Soft AI labels for `pairs`, in input order. Each row: {"id", "p_a" (P(summary_a better),
    averaged over both orders), "probs_ab", "probs_ba" ([P(1), P(2)] as shown), "other_mass",
    "same_position", "position" ("first"/"second" when same_position), "truncated", and "rationales"
    {"ab": [...], "ba": [...]} with CoT}. `labeler` is a preset name, folder or hub id, or a
    (model, tokenizer) pair. With `cache_path`, finished pairs are read back and never relabeled."""
    validate_pairs(pairs)
    shots = list(exemplars)[:config.shots]
    if len(shots) < config.shots:
        raise ValueError(f"config.shots={config.shots} needs that many exemplars; got {len(shots)}. "
                         "Use select_exemplars(training_pairs, k, seed).")
    validate_pairs(shots)
    used = {str(p["id"]) for p in pairs} | {p["post"].strip() for p in pairs}
    for ex in shots:
        if str(ex["id"]) in used or ex["post"].strip() in used or ex.get("choice") not in (0, 1):
            raise ValueError(f"exemplar {ex['id']!r} is one of the labeled pairs (or its post), or has no "
                             "human choice 0/1: exemplars must come from a separate training split.")
    engine = _vllm_engine(labeler, config)
    if engine is None:
        model, tokenizer, name = load_labeler(labeler)
    else:
        from ...models import load_tokenizer
        model, tokenizer, name = None, load_tokenizer(str(labeler)), str(labeler)
    ids = answer_token_ids(tokenizer)
    shots = [dict(e, post=truncate_post(e["post"], tokenizer, config.max_post_tokens)[0]) for e in shots]
    keys = [pair_key(name, config, shots, p) for p in pairs]
    cache = LabelCache(cache_path) if cache_path else None
    done = dict(cache.done) if cache else {}
    todo = {}  # the pairs to label, once per key
    for key, pair in zip(keys, pairs):
        if key not in done and key not in todo:
            post, cut = truncate_post(pair["post"], tokenizer, config.max_post_tokens)
            todo[key] = dict(pair, post=post, _truncated=cut)
    todo = sorted(todo.items(), key=lambda kp: len(kp[1]["post"]) + len(kp[1]["summary_a"]) + len(kp[1]["summary_b"]))
    bar, store = None, {}
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(set(keys)), initial=len(set(keys)) - len(todo), desc="AI labels", unit="pair")
    try:
        size = label_batch_size(config, model)
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            seed = int(chunk[0][0][:8], 16)
            rows = _label_batch(model, tokenizer, [p for _, p in chunk], config, shots, ids, seed, store, engine)
            records = [{"key": k, "id": str(p["id"]), "result": r} for (k, p), r in zip(chunk, rows)]
            if cache:
                cache.add(records)
            done.update({r["key"]: r["result"] for r in records})
            if bar:
                bar.update(len(chunk))
    finally:
        if bar:
            bar.close()
        if cache:
            cache.close()
    return [dict(done[k], id=p["id"]) for k, p in zip(keys, pairs)]


# ----------------------------------------------------------------- one batch of pairs, both orders in one forward pass
def _label_batch(model, tokenizer, batch: list[dict], config, exemplars, ids, seed, store, engine=None) -> list[dict]:
    """Label a batch of (already truncated) pairs, both orders in one forward pass (or one vLLM
    call when `engine` is given)."""
    orders = [(p, swap) for p in batch for swap in (False, True)]
    rationales = None
    groups = [[2 * i, 2 * i + 1] for i in range(len(batch))]  # a pair's two orders share its post
    if config.cot:
        step1 = [render_prompt(p, config, exemplars, s, None, tokenizer) for p, s in orders]
        rationales = _rationales(model, tokenizer, step1[0][0], [full for _, full in step1], groups, config,
                                 seed, store)
    n_sc = config.self_consistency if config.cot else 1
    prefix, fulls = None, []
    for j, (p, s) in enumerate(orders):
        for r in (rationales[j] if config.cot else [None]):
            prefix, full = render_prompt(p, config, exemplars, s, r, tokenizer)
            fulls.append(full)
    groups = [list(range(i * 2 * n_sc, (i + 1) * 2 * n_sc)) for i in range(len(batch))]  # a pair's rows
    if engine is not None:
        from .vllm_scoring import soft_labels
        probs, other = soft_labels(engine, tokenizer, fulls, ids)
    else:
        probs, other = two_way(score_rows(model, tokenizer, prefix, fulls, store=store, groups=groups)[:, -1], ids)
    probs = probs.reshape(len(batch), 2, n_sc, 2).mean(axis=2)  # self-consistency: average distributions
    other = other.reshape(len(batch), 2 * n_sc).mean(axis=1)
    out = []
    for i, pair in enumerate(batch):
        ab, ba = probs[i, 0], probs[i, 1]  # ba is in shown order: ba[0] = P(b shown first is better)
        first_ab, first_ba = ab[0] >= ab[1], ba[0] >= ba[1]
        same = bool(first_ab == first_ba)
        row = {"id": pair["id"], "p_a": float((ab[0] + ba[1]) / 2), "probs_ab": [float(x) for x in ab],
               "probs_ba": [float(x) for x in ba], "other_mass": float(other[i]), "same_position": same,
               "position": ("first" if first_ab else "second") if same else None,
               "truncated": pair["_truncated"]}
        if config.cot:
            row["rationales"] = {"ab": rationales[2 * i], "ba": rationales[2 * i + 1]}
        out.append(row)
    return out


def _vllm_engine(labeler, config: LabelConfig):
    """The vLLM engine of `labeler` when `config.use_vllm` asks for it and it can run (no CoT, a
    labeler given by name, the `vllm` package, a CUDA device); else None, with one line saying why."""
    if not config.use_vllm:
        return None
    from ...device import get_policy
    from . import vllm_scoring

    why = ("chain of thought decodes its rationales with transformers" if config.cot else
           "the labeler is a (model, tokenizer) pair" if isinstance(labeler, (tuple, list)) else
           "the vllm package is not installed" if not vllm_scoring.vllm_available() else
           f"the device is {get_policy().device}" if not get_policy().is_cuda else None)
    if why:
        print(f"labeling: use_vllm was asked for but {why}; scoring with transformers instead", flush=True)
        return None
    return vllm_scoring.engine_for(str(labeler))


# ----------------------------------------------------------------------- chain of thought: decode the rationales first
def _rationales(model, tokenizer, prefix: str, prompts: list[str], groups, config: LabelConfig, seed: int,
                store: dict) -> list[list[str]]:
    """Decode `self_consistency` rationales per prompt (greedy at T = 0), cut at the ending if the
    model writes it itself. The prompts share the prefix's KV cache (`store`) and, per pair, the post."""
    if config.self_consistency > 1 and config.temperature <= 0:
        raise ValueError("self_consistency > 1 needs temperature > 0 (greedy decoding repeats one rationale)")
    texts = sample_continuations(model, tokenizer, prefix, prompts, groups, n=config.self_consistency,
                                 max_new_tokens=config.cot_max_tokens, temperature=config.temperature,
                                 top_k=config.top_k, seed=seed, store=store)
    return [[t.split(ENDING)[0] for t in row] for row in texts]


def select_exemplars(pairs_with_human_choice: list[dict], k: int, seed: int = 0) -> list[dict]:
    """k few-shot exemplars from a TRAINING split: among the most confident human choices (ties broken by
    `seed`), distinct subreddits where possible, and the shown answer balanced between "1" and "2" (a pair
    is swapped when needed, so the exemplars do not teach a position)."""
    pool = [p for p in pairs_with_human_choice if p.get("choice") in (0, 1)]
    validate_pairs(pool)
    if len(pool) < k:
        raise ValueError(f"need {k} pairs with a human 'choice', found {len(pool)}")
    def conf(p):  # strength of the human preference |confidence - 5| on the 9-point scale (both ends are sure)
        from ...data import preference_strength

        return float(preference_strength(p.get("confidence")) or 0)
    random.Random(seed).shuffle(pool)
    pool.sort(key=conf, reverse=True)
    pool = [p for p in pool if conf(p) >= conf(pool[k - 1])] if k else []  # the k most confident, and ties
    picked: list[dict] = []
    for distinct in (True, False):  # distinct subreddits first (a range of topics), then fill up
        for p in pool:
            subreddits = {q.get("subreddit") for q in picked}
            taken = any(p is q for q in picked) or (distinct and p.get("subreddit") in subreddits)
            if len(picked) < k and not taken:
                picked.append(p)
    out = []
    for i, p in enumerate(picked):
        want = i % 2  # alternate shown answers 1, 2, 1, ...
        ex = dict(p)
        if ex["choice"] != want:
            ex.update(summary_a=p["summary_b"], summary_b=p["summary_a"], choice=want, swapped=True)
        out.append(ex)
    return out
