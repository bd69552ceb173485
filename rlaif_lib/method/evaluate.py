"""Win rates (Sec. 3.2, Table 1): how often a judge prefers policy A's summary to policy B's.

In the toy world the judge is the simulated human rater of `toy_world`: for each held-out post it
prefers A with probability sigmoid((q_A - q_B) / tau), q being the gold quality. The win rate is the
mean of that probability over posts, i.e. the share of human judgements A would win in expectation
(no extra rater noise), with a bootstrap 95% interval over posts.

On real data the paper's judges were human raters (and a larger AI judge for some checks). The kit
has no human raters there, so an AI judge is asked in both orders exactly as in Sec. 2.1
(`ai_judge_preferences`), with the label stage's prompt, 0-shot (`judge_label_config`). The judge is
the preset's `judge` field: a different, larger model than the labeler. A judge that IS the labeler
grades the RLAIF policy with the very preferences it was trained to please, which inflates RLAIF's
win rate; `judge_record` says in metrics.json which judge was used and whether it is independent of
the labelers. The toy world's judge is the gold (simulated human) rater, independent by construction.
"""
from __future__ import annotations

import numpy as np

from ..stats import bootstrap_mean, fit_logistic


def gold_preferences(posts, summaries_a: list[str], summaries_b: list[str]) -> np.ndarray:
    """P(simulated human prefers A) per post, from the gold quality of both summaries."""
    from ..toy_world import TAU, gold_score

    q_a = np.array([gold_score(p, s) for p, s in zip(posts, summaries_a)])
    q_b = np.array([gold_score(p, s) for p, s in zip(posts, summaries_b)])
    return 1 / (1 + np.exp(-(q_a - q_b) / TAU))


def gold_score_summary(posts, summaries: list[str], n_boot: int = 2000, seed: int = 0) -> dict:
    """Mean gold score of `summaries` (one per post) with a bootstrap 95% interval (toy world)."""
    from ..toy_world import gold_score

    return bootstrap_mean([gold_score(p, s) for p, s in zip(posts, summaries)], n_boot=n_boot, seed=seed)


def ai_judge_preferences(prompts: list[str], summaries_a: list[str], summaries_b: list[str], judge,
                         config=None, cache_path=None) -> np.ndarray:
    """P(judge prefers A) per prompt: the AI labeler's position-debiased soft label (both orders).
    `prompts` are TL;DR prompts; `judge` is anything `label_pairs` accepts."""
    from ..tldr import parse_tldr_prompt
    from .labeling import LabelConfig, label_pairs

    pairs = [{"id": f"judge-{i}", **parse_tldr_prompt(p), "summary_a": a.strip() or "(empty)", "summary_b": b.strip() or "(empty)"}
             for i, (p, a, b) in enumerate(zip(prompts, summaries_a, summaries_b))]
    labels = label_pairs(pairs, judge, config or LabelConfig(), cache_path=cache_path)
    return np.array([x["p_a"] for x in labels])


def judge_label_config(label):
    """The prompt configuration of the real-data AI judge: the label stage's `LabelConfig` without
    exemplars (shots=0). Exemplars are human-labelled comparisons the label stage draws from its own
    pool (`pipeline.label_exemplars`); the evaluate stage judges policies' summaries of held-out posts
    and has no such pool, so the judge keeps the label stage's preamble, CoT and the rest, 0-shot."""
    from dataclasses import replace

    return replace(label, shots=0)


GOLD_JUDGE = "simulated human rater (gold score)"


def judge_record(toy: bool, judge: str | None, labeler: str, same_size_labeler: str | None = None) -> dict:
    """Which judge evaluates the policies, for metrics.json: {"name", "kind" ("gold" | "ai"),
    "independent_of_labeler", "description"}. Toy world: the gold rater. Real data: `judge` (the
    preset's field); None falls back to the labeler, recorded (and printed) as NOT independent."""
    if toy:
        return {"name": "gold", "kind": "gold", "independent_of_labeler": True, "description": GOLD_JUDGE}
    name = judge or labeler
    independent = name not in (labeler, same_size_labeler)
    if independent:
        description = f"AI judge {name} (not a labeler of this run), both orders"
    else:
        description = (f"AI judge {name}, both orders: this is a labeler of this run, so the win rates measure "
                       "agreement with the labels the policies were trained on, not quality; set the preset's "
                       "`judge` to a different, larger model")
        print(f"evaluate: WARNING {description}", flush=True)
    return {"name": name, "kind": "ai", "independent_of_labeler": independent, "description": description}


def win_rate(preferences, n_boot: int = 2000, seed: int = 0) -> dict:
    """{value, ci_low, ci_high, n} of per-post preferences for A (probabilities or 0/0.5/1)."""
    return bootstrap_mean(preferences, n_boot=n_boot, seed=seed)


def length_controlled_win_rate(preferences, summaries_a: list[str], summaries_b: list[str]) -> float:
    """Table 8's idea: fit P(A wins) = sigmoid(w0 + w1 * log(len_A / len_B)) by logistic regression
    (soft targets allowed) and report sigmoid(w0), the win rate at equal length."""
    y = np.asarray(preferences, dtype=float)
    words = lambda s: max(len(s.split()), 1)  # noqa: E731
    x = np.log(np.array([words(a) / words(b) for a, b in zip(summaries_a, summaries_b)]))
    w = fit_logistic(x, y, ridge=1e-3, ridge_on_bias=True)  # a little ridge for separable data
    return float(1 / (1 + np.exp(-w[0])))
