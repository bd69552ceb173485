"""Sentences that state a run's results, each produced by a rule from the numbers it reads.

The run's report (`rlaif_lib.report.write_report`) and the talk (`slides/build.py`) print these same
sentences, so the two cannot say different things about one run. Every function takes the run's
`metrics` dict (or the rows it reads) and returns a `Reading`: a plain string, carrying as `claim` its
verdict in a fixed vocabulary ("rlaif_vs_sft:above") for tests and the deck's markup. A number the run
does not have reads "not measured in this run", with an empty claim.

The rules compare 95% bootstrap intervals (`rlaif_lib.stats.bootstrap_mean`) with a reference:
an interval wholly above or below it is a difference; one that contains it is not, and reads as
"about even" only when it is also narrow (inside the reference ± EVEN_MARGIN).
"""
from __future__ import annotations

import math

from . import paper
from .stats import fmt_ci, fmt_pct

NOT_MEASURED = "not measured in this run"
EVEN_MARGIN = 0.05  # an interval inside 50% ± 5 points is narrow enough to call two policies even
POLICY_NAMES = {"sft": "SFT", "rlaif": "RLAIF", "rlhf": "RLHF", "drlaif": "d-RLAIF",
                "rlaif_same_size": "same-size RLAIF", "reference": "reference TL;DR"}
BASELINE_NAMES = {"longer_wins": "the longer-summary heuristic", "minilm_similarity": "MiniLM similarity"}


class Reading(str):
    """A sentence (the string itself) and `claim`, its verdict in machine-readable form ('' when missing)."""

    claim: str

    def __new__(cls, text: str, claim: str = ""):
        self = super().__new__(cls, text)
        self.claim = claim
        return self


def finite(x) -> bool:
    """True for a number that is neither NaN nor infinite (and not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def lookup(tree, path: str):
    """The value at a dotted path ("win_rate.rlaif_vs_sft.ci_low", list indices as numbers), or None."""
    for part in path.split("."):
        if isinstance(tree, list) and part.isdigit() and int(part) < len(tree):
            tree = tree[int(part)]
        else:
            tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def interval(d, value_key: str = "value"):
    """(value, low, high) of an interval dict, or None when any of the three is missing."""
    if not isinstance(d, dict) or not all(finite(d.get(k)) for k in (value_key, "ci_low", "ci_high")):
        return None
    return d[value_key], d["ci_low"], d["ci_high"]


def side_of(iv, x: float) -> str:
    """'above', 'below' or 'contains': where the interval (value, low, high) lies relative to x."""
    _, lo, hi = iv
    return "above" if lo > x else "below" if hi < x else "contains"


def versus(a, b) -> str:
    """'above', 'below' or 'overlap': interval a against interval b."""
    return "above" if a[1] > b[2] else "below" if a[2] < b[1] else "overlap"


def policy_pair(name: str) -> tuple[str, str]:
    """The two policies of a comparison key: "rlaif_vs_sft" -> ("RLAIF", "SFT")."""
    a, b = name.split("_vs_")
    return POLICY_NAMES.get(a, a), POLICY_NAMES.get(b, b)


def technique_name(row: dict) -> str:
    """A Table 2 prompt setting as the paper names it: "Detailed + CoT, 0-shot"."""
    name = "Detailed" if row.get("preamble") == "detailed" else "Base"
    return f"{name}{' + CoT' if row.get('cot') else ''}, {row.get('shots', 0)}-shot"


def win_verdict(metrics: dict, name: str) -> Reading:
    """The verdict on win rate `name` ("rlaif_vs_sft") against 50%: "A beats B" (interval above),
    "A loses to B" (below), "A and B are about even" (contains 50% and lies within 50% ± EVEN_MARGIN),
    else "A and B cannot be told apart at this n"."""
    a, b = policy_pair(name)
    iv = interval(lookup(metrics, "win_rate." + name))
    if not iv:
        return Reading(f"{a} vs {b}: {NOT_MEASURED}")
    side = side_of(iv, 0.5)
    if side == "above":
        text = f"{a} beats {b}"
    elif side == "below":
        text = f"{a} loses to {b}"
    elif iv[1] == iv[2] == 0.5:
        text = f"{a} and {b} tie on every post"
    elif iv[1] >= 0.5 - EVEN_MARGIN and iv[2] <= 0.5 + EVEN_MARGIN:
        text = f"{a} and {b} are about even (the interval lies within 50% ± {100 * EVEN_MARGIN:g} points)"
    else:
        text = f"{a} and {b} cannot be told apart at this n"
    return Reading(text, f"{name}:{side}")


def win_reading(metrics: dict, name: str) -> Reading:
    """The verdict on win rate `name`, its interval and n, and where the paper's number (Table 1)
    lies relative to the run's interval."""
    verdict = win_verdict(metrics, name)
    if not verdict.claim:
        return Reading(verdict + ".")
    d = metrics["win_rate"][name]
    side = {"above": "lies above", "below": "lies below", "contains": "contains"}[side_of(interval(d), 0.5)]
    text = f"{verdict}: {fmt_ci(d)}; the interval {side} 50%"
    if name in paper.WIN_RATE:
        p = paper.WIN_RATE[name] / 100
        where = "inside" if d["ci_low"] <= p <= d["ci_high"] else "above" if p > d["ci_high"] else "below"
        text += f"; the paper's {paper.WIN_RATE[name]:g}% is {where} this run's interval"
    return Reading(text + ".", verdict.claim)


def position_reading(metrics: dict) -> Reading:
    """How often the AI labeler keeps the same position after the swap, and which of the paper's
    labelers (Table 4) that rate is closest to."""
    kit = lookup(metrics, "labeler.same_position_pct")
    if not finite(kit):
        return Reading(f"Position bias: {NOT_MEASURED}.")
    nearest = min(paper.SAME_POSITION, key=lambda k: abs(paper.SAME_POSITION[k] - kit))
    tail = ", more position-bound than any PaLM 2 labeler" if all(kit > v for v in paper.SAME_POSITION.values()) else ""
    return Reading(f"The AI labeler keeps the same position on {kit:.1f}% of pairs: closest to {nearest} "
                   f"({paper.SAME_POSITION[nearest]:g}%){tail}.", f"nearest:{nearest}")


def alignment_reading(metrics: dict) -> Reading:
    """Whether the AI labeler's alignment with the held-out human labels is above chance, and whether
    it beats each baseline that has an interval (longer summary wins, MiniLM similarity)."""
    d = lookup(metrics, "labeler.alignment_ci")
    iv = interval(d)
    if not iv:
        return Reading(f"Labeler alignment: {NOT_MEASURED}.")
    side = side_of(iv, 0.5)
    word = {"above": "agrees with the held-out human labels more often than chance",
            "below": "disagrees with the held-out human labels more often than chance",
            "contains": "cannot be told apart from a coin flip"}[side]
    parts, claims = [f"The AI labeler {word} ({fmt_ci(d)})"], [f"alignment-{side}"]
    for key, label in BASELINE_NAMES.items():
        base = interval(lookup(metrics, f"labeler.baselines.{key}"))
        if base:
            rel = versus(iv, base)
            parts.append({"above": f"it beats {label}", "below": f"{label} beats it",
                          "overlap": f"it cannot be told apart from {label}"}[rel]
                         + f" ({fmt_ci(metrics['labeler']['baselines'][key], n=False)})")
            claims.append(f"{key}:{rel}")
    return Reading("; ".join(parts) + ".", ",".join(claims))


def rm_reading(metrics: dict) -> Reading:
    """Where each reward model's accuracy on held-out human preferences lies relative to chance, and
    whether the RLAIF and RLHF reward models can be told apart (Table 5)."""
    parts, claims, ivs = [], [], {}
    for key, label in (("reward_model", "RLAIF's reward model"), ("reward_model_rlhf", "RLHF's reward model")):
        iv = interval(metrics.get(key), "accuracy_human")
        if not iv:
            parts.append(f"{label}: {NOT_MEASURED}")
            continue
        ivs[key], side = iv, side_of(iv, 0.5)
        parts.append(f"{label} ({fmt_ci(metrics[key], 'accuracy_human')}) is " + {
            "above": "better than chance", "below": "worse than chance", "contains": "not distinguishable from chance"}[side])
        claims.append(f"{key}-{side}")
    if len(ivs) == 2:
        rel = versus(ivs["reward_model"], ivs["reward_model_rlhf"])
        parts.append({"above": "RLAIF's is the more accurate", "below": "RLHF's is the more accurate",
                      "overlap": "the two cannot be told apart"}[rel])
        claims.append(f"rlaif_vs_rlhf:{rel}")
    return Reading("; ".join(parts) + ".", ",".join(claims))


def gold_reading(metrics: dict) -> Reading:
    """Which policies' mean gold scores (toy world) lie clearly above or below SFT's (intervals that
    do not overlap) and which overlap it; '' without a gold score for SFT."""
    gold = metrics.get("gold_score") or {}
    sft = interval(gold.get("sft"))
    if not sft:
        return Reading("")
    groups = {"above": [], "below": [], "overlap": []}
    for name, d in gold.items():
        if name not in ("sft", "reference"):
            groups[versus(interval(d), sft) if interval(d) else "overlap"].append(name)
    words = {"above": "clearly above SFT", "below": "clearly below SFT", "overlap": "overlapping SFT's interval"}
    parts = [", ".join(POLICY_NAMES.get(n, n) for n in names) + " " + words[k] for k, names in groups.items() if names]
    claim = ";".join(f"{k}:{','.join(v)}" for k, v in groups.items())
    return Reading("Gold score: " + "; ".join(parts) + ".", claim)


def techniques_reading(rows: list) -> Reading:
    """Whether the Table 2 rows (`labeler.techniques`, each with alignment, ci_low, ci_high, n) can be
    ranked: two whose intervals do not overlap, or every interval overlapping the others."""
    rows = [r for r in rows or [] if interval(r, "alignment")]
    if not rows:
        return Reading(f"Prompting techniques: {NOT_MEASURED}.")
    best = max(rows, key=lambda r: r["ci_low"])
    worst = min(rows, key=lambda r: r["ci_high"])
    n = min(r.get("n", 0) for r in rows)
    if best["ci_low"] <= worst["ci_high"]:
        spread = max(paper.TECHNIQUES.values()) - min(paper.TECHNIQUES.values())
        return Reading(f"With n={n} pairs per row every interval overlaps the others: this run cannot rank the "
                       f"prompts (the paper's rows span {spread:.1f} points).", "techniques-overlap")
    return Reading(f"{technique_name(best)} is above {technique_name(worst)} (intervals do not overlap, "
                   f"n={n} per row).", "techniques-separated")


def agreement_reading(metrics: dict) -> Reading:
    """The run's two raters' agreement with each other (`human_rater_agreement`) against the paper's
    range for human raters."""
    value = metrics.get("human_rater_agreement")
    if not finite(value):
        return Reading(f"Rater agreement: {NOT_MEASURED}.")
    lo, hi = paper.HUMAN_AGREEMENT
    rel = "inside" if lo <= 100 * value <= hi else "below" if 100 * value < lo else "above"
    return Reading(f"Two raters of this run agree on {fmt_pct(value)} of pairs: {rel} the {lo}-{hi}% of "
                   f"the paper's human raters.", f"agreement-{rel}")


# ----------------------------------------------------------------------------- like for like with the paper
LENGTH_MARGIN = 0.05  # a policy within ±5% of SFT's mean words writes "about as long" summaries
RL_POLICIES = ("rlaif", "rlhf", "drlaif", "rlaif_same_size")


def _names(keys, suffix: str = "") -> str:
    """"RLAIF", "RLAIF and RLHF", "RLAIF, RLHF and d-RLAIF" (with `suffix` "s": "RLAIF's and RLHF's")."""
    names = [POLICY_NAMES.get(k, k) + ("'" + suffix if suffix else "") for k in keys]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _steps_note(metrics: dict, preset: dict) -> Reading | None:
    """d-RLAIF's RL steps (`drlaif_steps`) against the other policies' (`rl.max_steps`), when they differ."""
    trained = [k for k in RL_POLICIES if isinstance(lookup(metrics, f"rl.{k}"), dict)]
    if "drlaif" not in trained or len(trained) < 2:
        return None

    def steps_of(k):  # the preset's budget; without a preset, the last step the run recorded
        return lookup(preset, "drlaif_steps" if k == "drlaif" else "rl.max_steps") or lookup(metrics, f"rl.{k}.step")

    d, others = steps_of("drlaif"), [k for k in trained if k != "drlaif"]
    steps = {steps_of(k) for k in others}
    s = steps.pop() if len(steps) == 1 else None
    if not finite(d) or not finite(s) or d == s:
        return None
    rel = "fewer" if d < s else "more"
    return Reading(f"d-RLAIF trained {d:g} RL steps, {rel} than {_names(others, 's')} {s:g} (the preset's "
                   f"`drlaif_steps` and `rl.max_steps`), so its win rate is not like for like with theirs.",
                   f"steps:{rel}")


def _length_note(metrics: dict) -> Reading | None:
    """Whether the RL policies wrote longer, shorter or about as long summaries as SFT (`mean_words`), beside
    the paper's RL policies, which wrote longer ones (why its Table 8 controls for length)."""
    words = metrics.get("mean_words") or {}
    sft = words.get("sft")
    rows = {k: words[k] for k in RL_POLICIES if finite(words.get(k))}
    if not finite(sft) or sft <= 0 or not rows:
        return None
    kinds = {"longer" if w > sft * (1 + LENGTH_MARGIN) else "shorter" if w < sft * (1 - LENGTH_MARGIN)
             else "about as long" for w in rows.values()}
    table8 = "which is why its Table 8 controls for length"
    if kinds == {"longer"}:
        lead = f"The RL policies wrote summaries longer than SFT's, as the paper's did ({table8})"
    elif "longer" in kinds:
        lead = (f"Some RL policies wrote summaries longer than SFT's and some did not; the paper's all wrote longer "
                f"ones ({table8})")
    else:
        said = {"shorter": "shorter than", "about as long": "about as long as"}
        lead = (f"The RL policies wrote summaries {' or '.join(v for k, v in said.items() if k in kinds)} SFT's, "
                f"whereas the paper's wrote longer ones ({table8})")
    detail = ", ".join(f"{POLICY_NAMES.get(k, k)} {w:.1f}" for k, w in {"sft": sft, **rows}.items())
    return Reading(f"{lead}: mean words {detail} (within ±{100 * LENGTH_MARGIN:g}% of SFT's counts as about as "
                   f"long).", "length:" + ",".join(sorted(k.replace(" ", "-") for k in kinds)))


def _judge_note(metrics: dict, preset: dict) -> Reading | None:
    """Who judges the kit's win rates (metrics `judge`) against the paper's human raters."""
    judge = metrics.get("judge")
    if not judge:
        return None
    if isinstance(judge, dict):
        kind, what = judge.get("kind"), judge.get("description") or judge.get("name") or ""
    else:  # a string in older runs
        kind, what = ("gold" if str(judge).startswith("simulated") else "ai"), str(judge)
    labels = (" The kit's \"human\" labels (RLHF's reward model, the labeler's alignment) are simulated too."
              if preset.get("comparisons") == "toy" or kind == "gold" else "")
    if kind == "gold":
        return Reading(f"The kit's win rates are judged by the toy world's SIMULATED human rater (its gold score), "
                       f"the paper's by people.{labels}", "judge:simulated")
    return Reading(f"The kit's win rates are judged by an AI ({what}), the paper's by people.{labels}", "judge:ai")


def _labeler_note(metrics: dict, preset: dict) -> Reading | None:
    """The kit's AI labeler, with its size when its name gives one ("135m"), against the paper's PaLM 2 labelers."""
    name = lookup(metrics, "labeler.name") or preset.get("labeler")
    if not name:
        return None
    import re

    size = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)([mb])(?![a-z])", str(name).lower())
    size = f", {size[1]}{size[2].upper()} parameters" if size else ""
    return Reading(f"The AI labeler is {name}{size}; the paper's are PaLM 2 models "
                   f"({', '.join(k.replace('PaLM 2 ', '') for k in paper.LABELER_SIZE)}), whose sizes it does not "
                   f"state.", "labeler")


def _n_note(metrics: dict) -> Reading | None:
    """How many posts and pairs each kit number rests on, and the widest of their intervals."""
    groups = {"win rates": (list((metrics.get("win_rate") or {}).values()), "held-out posts"),
              "the labeler's alignment": ([lookup(metrics, "labeler.alignment_ci")], "test pairs"),
              "the reward models' accuracies": ([metrics.get(k) for k in ("reward_model", "reward_model_rlhf")],
                                                "test pairs")}
    said, widest = {}, 0.0
    for what, (ds, unit) in groups.items():
        ds = [d for d in ds if isinstance(d, dict) and finite(d.get("n"))]
        if ds:
            said.setdefault((", ".join(str(n) for n in sorted({d["n"] for d in ds})), unit), []).append(what)
            widest = max([widest] + [(d["ci_high"] - d["ci_low"]) / 2 for d in ds
                                     if finite(d.get("ci_high")) and finite(d.get("ci_low"))])
    if not said:
        return None
    parts = [f"{' and '.join(whats)} over n={n} {unit}" for (n, unit), whats in said.items()]
    return Reading(f"Sample sizes: {'; '.join(parts)}; the widest of these 95% intervals reaches ±{100 * widest:.1f} "
                   f"points from its estimate, so set a kit number beside the paper's with its interval.", "n")


def paper_comparison_notes(metrics: dict, preset: dict | None = None) -> list[Reading]:
    """What differs between a kit number and the paper's beside it, one sentence each, built from the run's
    `metrics` (metrics.json) and `preset` (preset.json): d-RLAIF's RL steps against the others' (only when they
    differ), the RL policies' summary lengths against SFT's, who judges the win rates, the labeler's size, and
    the n behind each number. A note whose numbers the run lacks is left out."""
    preset = preset or {}
    notes = (_steps_note(metrics, preset), _length_note(metrics), _judge_note(metrics, preset),
             _labeler_note(metrics, preset), _n_note(metrics))
    return [n for n in notes if n]
