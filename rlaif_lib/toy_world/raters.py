"""Simulated human raters. A rater sees the gold margin through logistic noise of scale `tau`, so

    P(A preferred) = sigmoid((q_A - q_B) / tau),

and reports a confidence on OpenAI's 9-point preference scale, consistent with its choice: 1-4 when
it prefers A (1 = definitely A), 6-9 when it prefers B (9 = definitely B), never 5; the strength of
preference |confidence - 5| (1..4) grows with the margin it perceived. TAU was calibrated once so
that two raters agree on 75% of the pairs they are asked about, as OpenAI's raters did (73-77%; 72.6%
over the 773 pairs of labels in the shipped batch 13).
"""
from __future__ import annotations

import math
import random

from .gold import gold_score
from .posts import Post, _as_rng

# Calibrated once: calibrate_tau(pairs, target=0.75) on 199 candidate pairs of a `tiny` run's SFT policy (seed 0:
# two samples per post at the preset's temperature, the kind of pair the raters label) returned 0.123.
TAU = 0.125


def _strength(perceived: float, tau: float) -> int:
    """Strength of preference 1..4 from the perceived margin in units of tau:
    below 0.72 -> 1, 0.72-1.73 -> 2, 1.73-3.47 -> 3, 3.47 or more -> 4."""
    return 1 + min(3, int(4 * (1 - math.exp(-abs(perceived) / (2.5 * tau)))))


def _rate(margin: float, rng: random.Random, tau: float) -> tuple[int, int]:
    """One rater: perceives margin + tau * logistic noise; prefers A (0) if positive; its confidence is on
    OpenAI's 9-point scale: 5 - strength when it prefers A, 5 + strength when it prefers B."""
    u = min(max(rng.random(), 1e-12), 1 - 1e-12)
    perceived = margin + tau * math.log(u / (1 - u))
    choice = 0 if perceived > 0 else 1
    strength = _strength(perceived, tau)
    return choice, 5 - strength if choice == 0 else 5 + strength


def human_preference(post: Post, summary_a: str, summary_b: str, rng, tau: float = TAU) -> tuple[int, int]:
    """A simulated human rating: (choice, confidence); P(choice == 0) = sigmoid((q_A - q_B) / tau), confidence on
    OpenAI's 9-point scale (1-4 with choice 0, 6-9 with choice 1; data.CONFIDENCE_SCALE_NOTE)."""
    return _rate(gold_score(post, summary_a) - gold_score(post, summary_b), _as_rng(rng), tau)


def rater_agreement(pairs, seed: int = 0, tau: float = TAU) -> float:
    """Share of (post, a, b) pairs on which two simulated raters make the same choice."""
    rng = random.Random(f"raters:{seed}")
    agree = []
    for post, a, b in pairs:
        margin = gold_score(post, a) - gold_score(post, b)
        agree.append(_rate(margin, rng, tau)[0] == _rate(margin, rng, tau)[0])
    return sum(agree) / len(agree)


def calibrate_tau(pairs, target: float = 0.75) -> float:
    """The tau at which two raters' expected agreement on `pairs` is `target`.

    Expected agreement = mean over pairs of p^2 + (1-p)^2, with p = sigmoid((q_A - q_B) / tau).
    """
    margins = [gold_score(post, a) - gold_score(post, b) for post, a, b in pairs]

    def agreement(tau):
        ps = [1 / (1 + math.exp(-max(-50.0, min(50.0, m / tau)))) for m in margins]
        return sum(p * p + (1 - p) ** 2 for p in ps) / len(ps)

    lo, hi = 1e-3, 10.0  # agreement falls as tau grows; bisect in log space
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if agreement(mid) > target else (lo, mid)
    return math.sqrt(lo * hi)
