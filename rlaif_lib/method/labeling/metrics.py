"""How good a labeler is: alignment with human choices (Sec. 2.3) and position bias (Table 4)."""
from __future__ import annotations


def alignment(labels, pairs, min_strength=None, n_boot: int = 1000, seed: int = 0) -> dict:
    """Share of pairs where argmax of the AI soft label agrees with the human choice (0 = summary_a),
    {value, ci_low, ci_high, n} with a bootstrap 95% interval. A tie (p_a = 0.5) counts 1/2. With
    `min_strength`, only pairs whose human strength of preference |confidence - 5| is >= it count
    (confidence is OpenAI's 9-point scale; the paper's high-confidence pairs: min_strength=3). Each label
    counts against its own pair (`matched_labels`: by `data.pair_id` where the labels carry one)."""
    from ...data import preference_strength
    from ...stats import bootstrap_mean

    matched = matched_labels(labels, pairs)
    scores = []
    for label, pair in matched:
        if pair.get("choice") not in (0, 1):
            continue
        if min_strength is not None and (preference_strength(pair.get("confidence")) or 0) < min_strength:
            continue
        p_a = label["p_a"]
        scores.append(0.5 if p_a == 0.5 else float((p_a > 0.5) == (pair["choice"] == 0)))
    return bootstrap_mean(scores, n_boot=n_boot, seed=seed)


def matched_labels(labels, pairs) -> list[tuple[dict, dict]]:
    """(label, pair) for each pair, in the pairs' order. Labels that carry a `pair_id` (the label stage's
    files) are joined by `data.pair_id`: a real post has several comparisons, so a post id names none of
    them. Labels without one are taken in order when their ids line up with the pairs' (as `label_pairs`
    returns them), else joined by id, which only works when no two pairs share a post id (ValueError
    otherwise). A pair without a label is a KeyError."""
    from ...data import pair_id

    labels = list(labels)
    if labels and all("pair_id" in x for x in labels):
        by_pair = {x["pair_id"]: x for x in labels}
        missing = [pair_id(p) for p in pairs if pair_id(p) not in by_pair]
        if missing:
            raise KeyError(f"no label for pairs {missing[:5]}")
        return [(by_pair[pair_id(p)], p) for p in pairs]
    ids = [str(p["id"]) for p in pairs]
    if [str(x["id"]) for x in labels] == ids:
        return list(zip(labels, pairs))
    if len(set(ids)) < len(ids):
        raise ValueError("the labels are in another order than the pairs, some pairs share a post id, and the "
                         "labels carry no pair_id to tell them apart (the label stage's files have one)")
    by_id = {str(x["id"]): x for x in labels}
    missing = [p["id"] for p in pairs if str(p["id"]) not in by_id]
    if missing:
        raise KeyError(f"no label for pairs {missing[:5]}")
    return [(by_id[str(p["id"])], p) for p in pairs]


def position_bias(labels) -> dict:
    """Table 4: % of pairs whose preferred POSITION is the same after the swap, and of those the % that
    preferred the first / second position; plus the % of all calls (both orders) that chose "1"."""
    rows = [x for x in labels if "probs_ab" in x and "same_position" in x]
    n = len(rows)
    same = [x for x in rows if x["same_position"]]
    first = sum(x["position"] == "first" for x in same)
    calls_first = sum((x["probs_ab"][0] >= x["probs_ab"][1]) + (x["probs_ba"][0] >= x["probs_ba"][1]) for x in rows)
    pct = lambda a, b: 100.0 * a / b if b else float("nan")  # noqa: E731
    return {"same_position_pct": pct(len(same), n), "first_pct": pct(first, len(same)),
            "second_pct": pct(len(same) - first, len(same)), "calls_first_pct": pct(calls_first, 2 * n), "n": n}


def position_direction(bias: dict) -> str:
    """Which position a labeler keeps when it keeps one (Table 4's "direction"): "first", "second",
    "none" (a tie) or "n/a" (no pairs); `bias` is a `position_bias` result."""
    if not bias.get("n"):
        return "n/a"
    return "first" if bias["first_pct"] > bias["second_pct"] else "second" if bias["second_pct"] > bias["first_pct"] else "none"
