"""A SIMULATED AI labeler of known quality (a what-if, not a model): toy world only.

No offline LLM larger than 135M runs on a laptop CPU, and SmolLM2-135M is at chance on the toy
pairs. To see how labeler quality carries through to the reward model and the policy, this module
makes labelers whose quality is set by hand: their soft label comes from the gold rater through a
controllable amount of noise, a controllable lean towards the longer summary, and a controllable
position bias. Everything downstream (reward
model, RL, evaluation) is the kit's real code, fed with these labels instead of an LLM's.

The model of one labeler. For a pair with gold margin m = q_A - q_B (toy_world.gold_score):

    d     = m + sigma * (eps + k * L)           perceived margin, eps ~ logistic (one draw per pair),
                                                L = tanh((words_A - words_B) / LENGTH_SCALE_WORDS)
    z_AB  = +d / t + b                          logit of "1" with A shown first
    z_BA  = -d / t + b                          logit of "1" with B shown first
    probs_ab = [sigmoid(z_AB), 1 - sigmoid(z_AB)],  probs_ba likewise
    p_a   = (probs_ab[0] + probs_ba[1]) / 2     both orders averaged (debias on, the paper's)
          =  probs_ab[0]                        one order only (debias off)

- sigma (noise) sets the alignment: with the both-order average the labeler picks A exactly when
  d > 0, so its expected alignment with the simulated humans (who pick A with probability
  sigmoid(m / TAU)) is mean_i [F(m_i/sigma + k L_i) h_i + (1 - F(...)) (1 - h_i)], F the logistic CDF.
- k (length_bias) makes the errors systematic: where the labeler is unsure it leans towards the
  longer summary (k > 0), as large LLM judges do (their "verbosity bias": Saito et al. 2023; Singhal
  et al. 2023, "A Long Way to Go: Investigating Length Correlations in RLHF"), or towards the shorter
  one (k < 0), as the kit's 135M labeler does on the toy pairs (`longer_share` of its labels;
  `length_bias_like` turns that share into k). Errors that are independent coin flips average out
  over a few hundred pairs, so a reward model learns the gold direction from any labeler above
  chance; a lean does not average out: the weaker the labeler (the larger sigma), the more of what its
  reward model learns is the lean, and RL then optimises it instead of quality. k = 0 is the
  independent-noise labeler; the coin flip (alignment 0.5) needs k = 0.
- b (position bias, sign = direction: > 0 keeps the first position) sets the same-position rate:
  the preferred position is the same after the swap exactly when |d| < |b| t.
- t = TAU + sigma: the labeler is as sure as its noise allows (a noisy labeler gives softer labels);
  the gold rater itself (sigma = 0, b = 0) gives p_a = sigmoid(m / TAU), the humans' own probability.

`calibrate` finds sigma and b by bisection on these expectations over a calibration set of
thousands of policy-like toy pairs (`calibration_pairs`, posts generated with their own seed, so
disjoint from every split a run uses). Position bias changes only the confidence of the averaged
label, never its argmax; without the average (debias off) it also flips labels, so the measured
alignment falls below the requested one: the value of debiasing, made visible.

A labeler is named by a string, usable as a preset's `labeler`:

    "simulated:alignment=0.78,same_position=0.18"                  (direction=first, debias=on, seed=0)
    "simulated:alignment=0.627,same_position=0.56,direction=second,debias=off"
    "simulated:alignment=0.7,same_position=0.18,length_bias=1"      leans towards the longer summary
    "simulated:alignment=0.7,same_position=0.18,length_bias=-2.4"   leans towards the shorter summary
    "simulated:gold"                                               the gold rater itself

Every label row carries "labeler": "simulated labeler (...)", so no output can pass it off as an LLM's.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from ...toy_world.corruptions import policy_like_pairs
from ...toy_world.gold import gold_score
from ...toy_world.posts import SPLITS, generate_posts, post_at
from ...toy_world.raters import TAU, _rate

PREFIX = "simulated:"
CALIBRATION_SEED = "simulated-labeler-calibration"  # a string seed: no preset's integer seed can collide
N_CALIBRATION = 4000
LENGTH_SCALE_WORDS = 8  # a length difference of this many words is most of the lean (tanh(1) = 0.76)


@dataclass(frozen=True)
class SimulatedLabeler:
    """What a simulated labeler should measure like. alignment and same_position are fractions;
    alignment=None means the gold rater itself (no noise, no position bias)."""

    alignment: float | None
    same_position: float = 0.0
    direction: str = "first"  # which position it keeps when it keeps one: "first" | "second"
    debias: bool = True  # average both orders (the paper); False = one order only
    length_bias: float = 0.0  # k: how far its doubt leans towards the longer (> 0) or shorter (< 0) summary
    seed: int = 0

    def __post_init__(self):
        if self.alignment is not None and not 0.5 <= self.alignment < 1:
            raise ValueError(f"simulated labeler: alignment must be a fraction in [0.5, 1), got {self.alignment}")
        if not 0 <= self.same_position < 1:
            raise ValueError(f"simulated labeler: same_position must be a fraction in [0, 1), got {self.same_position}")
        if self.direction not in ("first", "second"):
            raise ValueError(f"simulated labeler: direction must be 'first' or 'second', got {self.direction!r}")
        if self.alignment is None and self.same_position:
            raise ValueError("simulated labeler: the gold rater has no position bias (use alignment=... instead)")
        if not -10 <= self.length_bias <= 10:
            raise ValueError(f"simulated labeler: length_bias must be in [-10, 10], got {self.length_bias}")
        if self.alignment is None and self.length_bias:
            raise ValueError("simulated labeler: the gold rater has no length bias (use alignment=... instead)")

    @property
    def spec(self) -> str:
        """The string that names this labeler (round-trips through `parse`)."""
        if self.alignment is None:
            return PREFIX + "gold" + ("" if self.debias else ",debias=off")
        s = f"{PREFIX}alignment={self.alignment:g},same_position={self.same_position:g}"
        s += "" if self.direction == "first" else ",direction=second"
        s += "" if self.debias else ",debias=off"
        s += f",length_bias={self.length_bias:g}" if self.length_bias else ""
        return s + ("" if self.seed == 0 else f",seed={self.seed}")

    @property
    def name(self) -> str:
        """How outputs name it: always says "simulated labeler"."""
        if self.alignment is None:
            core = "gold rater"
        else:
            core = f"alignment {self.alignment:.1%}, same position {self.same_position:.0%} ({self.direction})"
            side = "longer" if self.length_bias > 0 else "shorter"
            core += f", leans to the {side} summary (k={self.length_bias:g})" if self.length_bias else ""
        return f"simulated labeler ({core}, {'both orders averaged' if self.debias else 'one order, no debiasing'})"


def is_simulated(labeler) -> bool:
    """True for a simulated-labeler spec string ("simulated:...")."""
    return isinstance(labeler, str) and labeler.startswith(PREFIX)


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise ValueError(value)
    return value == "on"


FIELD_TYPES = {"alignment": float, "same_position": float, "direction": str, "debias": _on_off,
               "length_bias": float, "seed": int}


def parse(spec: str) -> SimulatedLabeler:
    """A `SimulatedLabeler` from its spec string; a clear ValueError names a bad or unknown field."""
    if not is_simulated(spec):
        raise ValueError(f"not a simulated labeler spec (must start with {PREFIX!r}): {spec!r}")
    fields: dict = {}
    for part in filter(None, (p.strip() for p in spec[len(PREFIX):].split(","))):
        if part == "gold":
            fields["alignment"] = None
            continue
        key, eq, value = (x.strip() for x in part.partition("="))
        if not eq:
            raise ValueError(f"simulated labeler spec {spec!r}: {part!r} is not key=value")
        if key not in FIELD_TYPES:
            raise ValueError(f"simulated labeler spec {spec!r}: unknown field {key!r} (alignment, same_position, "
                             "direction, debias, length_bias, seed)")
        try:
            fields[key] = FIELD_TYPES[key](value)
        except ValueError:
            raise ValueError(f"simulated labeler spec {spec!r}: bad value {value!r} for {key!r}") from None
    if "alignment" not in fields:
        raise ValueError(f"simulated labeler spec {spec!r}: give alignment=... or 'gold'")
    return SimulatedLabeler(**fields)


# ---------------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------------
def _logistic_cdf(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float) / 2))


def _chose_a(margins, sigma, leans=0.0):
    """P(d > 0) per pair (ties: 1/2), d = m + sigma * (eps + lean)."""
    if sigma <= 0:
        return np.where(margins > 0, 1.0, np.where(margins < 0, 0.0, 0.5))
    return _logistic_cdf(margins / sigma + leans)


def expected_alignment(margins, sigma: float, leans=0.0) -> float:
    """Expected alignment (both orders averaged) of the labeler with noise `sigma` and per-pair length
    leans `leans` (k * L) against the simulated humans, over pairs with gold margins `margins`."""
    m = np.asarray(margins, dtype=float)
    human_a = 1 / (1 + np.exp(-m / TAU))
    pa = _chose_a(m, sigma, np.asarray(leans, dtype=float))
    return float(np.mean(pa * human_a + (1 - pa) * (1 - human_a)))


def expected_same_position(margins, sigma: float, c: float, leans=0.0) -> float:
    """Expected share of pairs with |d| < c (same position preferred after the swap)."""
    m = np.asarray(margins, dtype=float)
    if sigma <= 0:
        return float(np.mean(np.abs(m) < c))
    mu = m + sigma * np.asarray(leans, dtype=float)
    return float(np.mean(_logistic_cdf((c - mu) / sigma) - _logistic_cdf((-c - mu) / sigma)))


def _bisect(f, lo, hi, target, increasing, iters=80):
    for _ in range(iters):
        mid = math.sqrt(lo * hi)
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def calibrate(alignment: float | None, same_position: float, margins, leans=0.0) -> dict:
    """{sigma, c, expected_alignment, expected_same_position} so that a labeler of this module's
    model hits `alignment` and `same_position` in expectation over pairs with gold `margins` (and
    length leans `leans` = k * L per pair)."""
    m, leans = np.asarray(margins, dtype=float), np.broadcast_to(np.asarray(leans, dtype=float), np.shape(margins))
    if alignment is None:
        sigma = 0.0
    else:
        ceiling, floor = expected_alignment(m, 0.0), expected_alignment(m, 1e6, leans)
        if alignment > ceiling - 1e-6:
            raise ValueError(f"simulated labeler: alignment {alignment:.3f} is above what the gold rater itself "
                             f"reaches on these pairs ({ceiling:.3f}); ask for less, or 'gold'")
        if leans.any() and alignment < floor + 1e-6:
            raise ValueError(f"simulated labeler: alignment {alignment:.3f} is below what its length lean alone "
                             f"reaches on these pairs ({floor:.3f}); ask for more, or a smaller length_bias")
        sigma = _bisect(lambda s: expected_alignment(m, s, leans), 1e-6, 1e3, alignment, increasing=False)
    c = 0.0
    if same_position > 0:
        c = _bisect(lambda x: expected_same_position(m, sigma, x, leans), 1e-9, 1e3, same_position, increasing=True)
    return {"sigma": sigma, "c": c, "expected_alignment": expected_alignment(m, sigma, leans),
            "expected_same_position": expected_same_position(m, sigma, c, leans) if sigma > 0 or c > 0 else None}


@functools.lru_cache(maxsize=1)
def calibration_pairs(n: int = N_CALIBRATION) -> list[tuple]:
    """n (post, a, b) policy-like toy pairs on posts of their own seed (disjoint from any run's posts)."""
    posts = generate_posts(n, "label", seed=CALIBRATION_SEED)
    return policy_like_pairs(posts, seed=CALIBRATION_SEED)


@functools.lru_cache(maxsize=1)
def calibration_margins(n: int = N_CALIBRATION) -> np.ndarray:
    """Gold margins q_A - q_B of `calibration_pairs(n)` (computed once per process)."""
    return np.array([gold_score(p, a) - gold_score(p, b) for p, a, b in calibration_pairs(n)])


def length_lean(a: str, b: str) -> float:
    """L = tanh((words_A - words_B) / LENGTH_SCALE_WORDS): in (-1, 1), > 0 when A is longer."""
    return math.tanh((len(a.split()) - len(b.split())) / LENGTH_SCALE_WORDS)


def longer_share(labels, pairs) -> dict:
    """How often `labels` (rows with p_a, matched to `pairs` by id) pick the summary with more words, over the
    pairs whose word counts differ: {value, n}; a label of exactly 1/2 counts half."""
    by_id = {str(p["id"]): p for p in pairs}
    picks = []
    for row in labels:
        pair = by_id.get(str(row["id"]))
        if pair is None or row.get("p_a") is None:
            continue
        a_longer = len(pair["summary_a"].split()) - len(pair["summary_b"].split())
        if a_longer:
            p_a = float(row["p_a"])
            picks.append(0.5 if p_a == 0.5 else float((p_a > 0.5) == (a_longer > 0)))
    if not picks:
        raise ValueError("longer_share: no labelled pair whose summaries differ in length")
    return {"value": float(np.mean(picks)), "n": len(picks)}


def length_bias_like(share: float, pairs) -> float:
    """The lean k with which a labeler made of noise and its lean alone (sigma -> infinity) picks the longer
    summary of `pairs` in a `share` of those whose word counts differ: mean F(k |L|) = share, F the logistic
    CDF, k in [-10, 10] (a share of 0 or 1 gives the bound). Used to give the simulated labelers the lean of a
    measured real labeler (k < 0: towards the shorter summary)."""
    leans = np.abs([length_lean(p["summary_a"], p["summary_b"]) for p in pairs])
    leans = leans[leans > 0]
    if not len(leans) or not 0 <= share <= 1:
        raise ValueError(f"length_bias_like: needs pairs that differ in length and a share in [0, 1], got {share}")
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.mean(_logistic_cdf(mid * leans)) < share else (lo, mid)
    return round((lo + hi) / 2, 2)


@functools.lru_cache(maxsize=1)
def calibration_leans(n: int = N_CALIBRATION) -> np.ndarray:
    """`length_lean` of each of `calibration_pairs(n)`."""
    return np.array([length_lean(a, b) for _, a, b in calibration_pairs(n)])


@functools.lru_cache(maxsize=64)
def parameters(labeler: SimulatedLabeler, n: int = N_CALIBRATION) -> dict:
    """The calibrated {sigma, c, t, b, ...} of `labeler` on the calibration set."""
    leans = labeler.length_bias * calibration_leans(n) if labeler.length_bias else 0.0
    cal = calibrate(labeler.alignment, labeler.same_position, calibration_margins(n), leans)
    t = TAU + cal["sigma"]
    b = cal["c"] / t * (1 if labeler.direction == "first" else -1)
    return {**cal, "t": t, "b": b, "n_calibration": n}


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------
def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, x))))


def _eps(seed: int, pair_id, a: str, b: str) -> float:
    """The pair's one logistic noise draw, a pure function of (seed, pair): reruns give the same label."""
    h = hashlib.sha256(json.dumps([seed, str(pair_id), a, b]).encode()).digest()
    u = (int.from_bytes(h[:8], "big") + 0.5) / 2 ** 64
    return math.log(u / (1 - u))


def label_row(labeler: SimulatedLabeler, pair_id, margin: float, a: str = "", b: str = "", params=None) -> dict:
    """One label row (the shape `labeling.label_pairs` returns) for a pair with gold margin q_A - q_B."""
    p = params or parameters(labeler)
    lean = labeler.length_bias * length_lean(a, b)
    d = margin + p["sigma"] * (_eps(labeler.seed, pair_id, a, b) + lean) if p["sigma"] > 0 else margin
    z_ab, z_ba = d / p["t"] + p["b"], -d / p["t"] + p["b"]
    ab, ba = _sigmoid(z_ab), _sigmoid(z_ba)
    first_ab, first_ba = ab >= 0.5, ba >= 0.5
    same = first_ab == first_ba
    return {"id": pair_id, "p_a": (ab + (1 - ba)) / 2 if labeler.debias else ab, "probs_ab": [ab, 1 - ab],
            "probs_ba": [ba, 1 - ba], "other_mass": 0.0, "same_position": bool(same),
            "position": ("first" if first_ab else "second") if same else None, "truncated": False,
            "labeler": labeler.name}


def toy_post_for(pair: dict, seed: int):
    """The toy-world Post behind a pair (its id is the post id, e.g. "label-00012"), checked against
    the pair's post text; a clear error for pairs that are not from the toy world of `seed`."""
    split, _, index = str(pair["id"]).rpartition("-")
    if split not in SPLITS or not index.isdigit():
        raise ValueError(f"pair {pair['id']!r}: the simulated labeler needs toy-world pairs (ids like 'label-00012')")
    post = _toy_post(split, int(index), seed)
    if post.body.strip() != str(pair.get("post", "")).strip():
        raise ValueError(f"pair {pair['id']!r}: its post is not the toy world's post {post.id} for seed {seed}; "
                         "the simulated labeler only labels the run's own toy pairs")
    return post


@functools.lru_cache(maxsize=20_000)
def _toy_post(split: str, index: int, seed):
    return post_at(split, index, seed)


def label_pairs_simulated(pairs: list[dict], labeler, seed: int = 0, cache_path=None) -> list[dict]:
    """Soft labels for toy-world `pairs` from a simulated labeler (a `SimulatedLabeler` or its spec
    string), rows shaped exactly like `labeling.label_pairs`' (plus "labeler": "simulated labeler ...").
    `seed` is the toy world's seed of the run (to find each pair's post and gold facts). With
    `cache_path`, rows go through the same append-only cache as LLM labels."""
    from .cache import LabelCache
    from .prompts import validate_pairs

    sim = parse(labeler) if isinstance(labeler, str) else labeler
    validate_pairs(pairs)
    params = parameters(sim)
    keys = [hashlib.sha256(json.dumps([sim.spec, params["sigma"], params["b"], seed, str(p["id"]), p["post"],
                                       p["summary_a"], p["summary_b"]]).encode()).hexdigest() for p in pairs]
    cache = LabelCache(cache_path) if cache_path else None
    done = dict(cache.done) if cache else {}
    new = []
    try:
        for key, pair in zip(keys, pairs):
            if key in done:
                continue
            post = toy_post_for(pair, seed)
            margin = gold_score(post, pair["summary_a"]) - gold_score(post, pair["summary_b"])
            done[key] = label_row(sim, pair["id"], margin, pair["summary_a"], pair["summary_b"], params)
            new.append({"key": key, "id": str(pair["id"]), "result": done[key]})
        if cache and new:
            cache.add(new)
    finally:
        if cache:
            cache.close()
    return [dict(done[k], id=p["id"]) for k, p in zip(keys, pairs)]


def measure_on_calibration_set(labeler, n: int = N_CALIBRATION, seed: int = 1) -> dict:
    """Measured (not expected) alignment and same-position rate of `labeler` on the calibration set,
    against simulated human labels drawn with `seed`: what the requested values promise."""
    import random

    from .. import labeling as lab

    sim = parse(labeler) if isinstance(labeler, str) else labeler
    params, rng = parameters(sim, n), random.Random(f"calibration-humans:{seed}")
    margins = calibration_margins(n)
    rows, humans = [], []
    for i, ((post, a, b), m) in enumerate(zip(calibration_pairs(n), margins)):
        rows.append(label_row(sim, f"cal-{i}", float(m), a, b, params))
        humans.append({"id": f"cal-{i}", "choice": _rate(float(m), rng, TAU)[0]})  # = toy_world.human_preference
    return {"alignment": lab.alignment(rows, humans)["value"],
            "same_position": lab.position_bias(rows)["same_position_pct"] / 100, "n": n, **params}
