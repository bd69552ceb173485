"""Checks for the notebooks' exercises: each one says what is wrong with an answer, not only that something is.

An exercise is a cell with `...` to fill in, followed by a `check_...()` call. Every check

- prints "not filled in yet" and returns None while the answer is still `...` (so "Run All" never stops on it);
- recomputes the expected answer from the same inputs with the kit's own code, prints what differs and a hint
  when the answer is wrong, and returns False;
- prints what was right and returns True.

The solutions (cells tagged "solution", which `make student` strips) end with `assert check_...(...)`, so nbmake
runs every solution through its check in `make test`. Checks never look at test labels a student should not see:
they get the same inputs the exercise cell has.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

TIERS = ("warm-up", "core", "stretch")


def _unfilled(name: str, *values) -> bool:
    if any(v is ... for v in values):
        print(f"{name}: not filled in yet: replace the ... and run the cell again.")
        return True
    return False


def _verdict(name: str, ok, right: str, wrong: str) -> bool:
    ok = bool(ok)
    print(f"{name}: {'correct. ' + right if ok else 'not yet. ' + wrong}")
    return ok


def _close(a, b, tol: float) -> bool:
    return abs(float(a) - float(b)) <= tol


# ----------------------------------------------------------------------------------------------------------------
# 00 background
# ----------------------------------------------------------------------------------------------------------------
def check_summary(post, summary, target: float = 0.8) -> bool | None:
    """Scores your TL;DR of a toy post with the gold rater and names what costs it: the key facts it leaves out (with
    their weights), the wrong facts it states, its length and repetition. Passes at a gold score >= `target`."""
    from .toy_world import gold_breakdown
    from .toy_world.gold import IMPORTANCE, MAX_WORDS, MIN_WORDS

    if _unfilled("your summary", summary):
        return None
    b = gold_breakdown(post, summary)
    problems = [f"it leaves out {slot} (worth {IMPORTANCE[slot]:.2f} of coverage)"
                for slot in IMPORTANCE if slot not in b["covered"]]
    problems += [f"it states a wrong fact ({w})" for w in b["wrong_facts"]]
    if b["length_penalty"] > 0:
        problems.append(f"its {b['length_words']} words are outside {MIN_WORDS}-{MAX_WORDS} "
                        f"(penalty {b['length_penalty']:.2f})")
    if b["repetition"] > 0:
        problems.append(f"it repeats itself (repetition {b['repetition']:.2f})")
    if b["coherence"] < 1:
        problems.append(f"some of its word pairs never occur in the toy world (coherence {b['coherence']:.2f})")
    return _verdict("your summary", b["score"] >= target, f"SIMULATED gold score {b['score']:.2f} (>= {target})",
                    f"SIMULATED gold score {b['score']:.2f} < {target}: " + ("; ".join(problems) or "look at the breakdown"))


def check_hardest_corruption(answer, scores: dict) -> bool | None:
    """`answer`: the kind of damaged summary whose gold score comes closest to the reference's on average (the
    smallest mean margin reference - damaged); `scores`: {kind: gold scores per post}, "reference" included."""
    if _unfilled("hardest", answer):
        return None
    ref = np.asarray(scores["reference"])
    margin = {k: float(np.mean(ref - np.asarray(v))) for k, v in scores.items() if k != "reference"}
    expected = min(margin, key=margin.get)
    if answer not in margin:
        return _verdict("hardest", False, "", f"{answer!r} is not one of the kinds: {sorted(margin)}")
    return _verdict("hardest", answer == expected, f"the reference is ahead of {expected} by only {margin[expected]:.3f} "
                    "on average",
                    f"the reference is ahead of {answer} by {margin[answer]:.3f} on average, but of {expected} by only "
                    f"{margin[expected]:.3f}: look for the smallest mean margin, not the lowest score")


def check_rater_agreement(agreements: dict, pairs, seed: int = 0) -> bool | None:
    """`agreements`: {tau: share of pairs on which two simulated raters agree}, computed with
    `toy_world.rater_agreement(pairs, seed, tau)`; checks each value and that agreement falls as tau grows."""
    from .toy_world import rater_agreement

    if _unfilled("agreements", *agreements.values()):
        return None
    wrong = [f"tau={t:g}: you have {v:.3f}, the raters give {rater_agreement(pairs, seed=seed, tau=t):.3f}"
             for t, v in agreements.items() if not _close(v, rater_agreement(pairs, seed=seed, tau=t), 1e-9)]
    by_tau = [agreements[t] for t in sorted(agreements)]
    falls = all(a >= b for a, b in itertools.pairwise(by_tau))
    return _verdict("agreements", not wrong and falls, "a larger tau means noisier raters: they agree less",
                    "; ".join(wrong) or "the values do not fall as tau grows: did you pass tau= to rater_agreement?")


# ----------------------------------------------------------------------------------------------------------------
# Predictions (any notebook): say what will happen, then compare with what was measured
# ----------------------------------------------------------------------------------------------------------------
def check_prediction(question: str, guess, measured, options=None) -> bool | None:
    """Compares a prediction with the measured outcome. `options` lists the allowed answers (a clear error for any
    other). Returns True when the prediction held. The exercise then asks why, whichever way it went."""
    if _unfilled(question, guess):
        return None
    if options is not None and guess not in options:
        return _verdict(question, False, "", f"answer one of {list(options)}, not {guess!r}")
    return _verdict(question, guess == measured, f"measured: {measured!r}",
                    f"you predicted {guess!r}, measured: {measured!r}. Explain the difference before you read on.")


# ----------------------------------------------------------------------------------------------------------------
# 01 SFT
# ----------------------------------------------------------------------------------------------------------------
def all_token_loss(model, tokenizer, rows) -> float:
    """Mean next-token cross-entropy over every token of prompt + completion + EOS (no mask), for `rows`."""
    import torch

    total, count = 0.0, 0
    for row in rows:
        ids = tokenizer(row["prompt"] + row["completion"])["input_ids"] + [tokenizer.eos_token_id]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1], dim=-1)
        total -= logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum().item()
        count += len(ids) - 1
    return total / count


def check_all_token_loss(value, model, tokenizer, rows, summary_only_loss: float) -> bool | None:
    """`value`: the mean loss over every token (post included) of `rows`, computed by hand."""
    if _unfilled("loss_all_tokens", value):
        return None
    expected = all_token_loss(model, tokenizer, rows)
    if _close(value, summary_only_loss, 1e-4):
        return _verdict("loss_all_tokens", False, "", "that is the summary-only loss: count the post's tokens too")
    return _verdict("loss_all_tokens", _close(value, expected, 1e-3), f"{expected:.4f}",
                    f"you have {value:.4f}, expected {expected:.4f}: average over every predicted token (the first "
                    "token has no prediction; the EOS token does), not over rows")


# ----------------------------------------------------------------------------------------------------------------
# 02 AI labeling
# ----------------------------------------------------------------------------------------------------------------
def check_soft_label(p_a, probs_ab, probs_ba) -> bool | None:
    """`p_a`: the debiased soft label P(A preferred) from the two orders' [P("1"), P("2")]."""
    if _unfilled("p_a", p_a):
        return None
    expected = (probs_ab[0] + probs_ba[1]) / 2
    if _close(p_a, (probs_ab[0] + probs_ba[0]) / 2, 1e-6) and not _close(p_a, expected, 1e-6):
        return _verdict("p_a", False, "", "you averaged P('1') of both orders; with B shown first, A is summary '2'")
    if _close(p_a, probs_ab[0], 1e-6) and not _close(p_a, expected, 1e-6):
        return _verdict("p_a", False, "", "that is order (A, B) alone: average it with the swapped order")
    return _verdict("p_a", _close(p_a, expected, 1e-6), f"p_a = {expected:.4f}",
                    f"you have {float(p_a):.4f}, expected {expected:.4f} = (P_AB('1') + P_BA('2')) / 2")


def check_same_position(answers, labels) -> bool | None:
    """`answers`: for each of `labels` (rows with probs_ab, probs_ba), True when the labeler preferred the same
    POSITION in both orders."""
    if _unfilled("same_position", answers):
        return None
    expected = [(r["probs_ab"][0] >= r["probs_ab"][1]) == (r["probs_ba"][0] >= r["probs_ba"][1]) for r in labels]
    if len(answers) != len(expected):
        return _verdict("same_position", False, "", f"give one True/False per label: {len(expected)}, not {len(answers)}")
    wrong = [i for i, (a, e) in enumerate(zip(answers, expected)) if bool(a) != e]
    return _verdict("same_position", not wrong, f"{sum(expected)} of {len(expected)} kept the same position",
                    "; ".join(f"label {i}: probs_ab {np.round(labels[i]['probs_ab'], 3).tolist()}, probs_ba "
                              f"{np.round(labels[i]['probs_ba'], 3).tolist()} -> "
                              f"{'same position' if expected[i] else 'flipped'}" for i in wrong))


def check_self_consistency(p_a, sample_probs_ab, sample_probs_ba) -> bool | None:
    """`p_a`: the self-consistency soft label of one pair from k sampled rationales per order: each order's
    [P("1"), P("2")] averaged over its k samples, then the two orders combined as without self-consistency."""
    if _unfilled("p_a", p_a):
        return None
    ab, ba = np.mean(sample_probs_ab, axis=0), np.mean(sample_probs_ba, axis=0)
    expected = float((ab[0] + ba[1]) / 2)
    votes = np.mean([a[0] >= a[1] for a in sample_probs_ab] + [b[1] > b[0] for b in sample_probs_ba])
    if _close(p_a, votes, 1e-6) and not _close(p_a, expected, 1e-6):
        return _verdict("p_a", False, "", "that is a majority vote; the paper averages the distributions (soft)")
    return _verdict("p_a", _close(p_a, expected, 1e-6), f"p_a = {expected:.4f}",
                    f"you have {float(p_a):.4f}, expected {expected:.4f}: mean of the k distributions per order, "
                    "then (P_AB('1') + P_BA('2')) / 2")


def check_interval_reading(can_tell_apart, a: dict, b: dict) -> bool | None:
    """`can_tell_apart`: whether two measured rates ({value, ci_low, ci_high}) differ beyond their 95% intervals
    (the kit's rule, `readings.versus`: the intervals do not overlap)."""
    from .readings import interval, versus
    from .stats import fmt_ci

    if _unfilled("can_tell_apart", can_tell_apart):
        return None
    apart = versus(interval(a), interval(b)) != "overlap"
    both = f"{fmt_ci(a, n=False)} vs {fmt_ci(b, n=False)}"
    return _verdict("can_tell_apart", bool(can_tell_apart) == apart, both,
                    f"{both}: the intervals {'do not overlap' if apart else 'overlap'}; "
                    "compare intervals, not point estimates")


# ----------------------------------------------------------------------------------------------------------------
# 02b, 05 sample sizes
# ----------------------------------------------------------------------------------------------------------------
def check_sample_size(n, p: float, half_width: float) -> bool | None:
    """`n`: the number of independent yes/no judgments whose 95% interval around a rate `p` has at most
    `half_width` (normal approximation: 1.96 sqrt(p (1 - p) / n) <= half_width). Within 2% of the exact answer."""
    if _unfilled("n", n):
        return None
    expected = math.ceil((1.96 / half_width) ** 2 * p * (1 - p))
    if _close(n, expected ** 0.5, 1):
        return _verdict("n", False, "", "that is sqrt(n): the half-width shrinks as 1/sqrt(n), so n grows as its square")
    return _verdict("n", abs(n - expected) <= 0.02 * expected + 1, f"n >= {expected}",
                    f"you have {n}, expected about {expected} = ceil((1.96 / {half_width:g})^2 p (1 - p)), p = {p:.3f}")


# ----------------------------------------------------------------------------------------------------------------
# 03 reward model
# ----------------------------------------------------------------------------------------------------------------
def check_loss_gradient(grad) -> bool | None:
    """`grad(delta, p)`: your formula for dL/d(delta) of the soft-label loss
    L = -[p log sigma(delta) + (1 - p) log sigma(-delta)]; compared with autograd on a grid."""
    import torch

    from .method.reward import soft_preference_loss

    if _unfilled("grad", grad):
        return None
    wrong = []
    for p in (0.0, 0.3, 0.5, 0.9, 1.0):
        for delta in (-3.0, -0.5, 0.0, 1.0, 2.5):
            d = torch.tensor([delta], requires_grad=True)
            soft_preference_loss(d, torch.zeros(1), torch.tensor([p])).backward()
            if not _close(grad(delta, p), d.grad.item(), 1e-5):
                wrong.append((delta, p, float(grad(delta, p)), d.grad.item()))
    if wrong and all(_close(g, -t, 1e-5) for _, _, g, t in wrong):
        return _verdict("grad", False, "", "the sign is flipped: the loss falls as sigma(delta) approaches p")
    detail = ", ".join(f"(delta={d:g}, p={p:g}): yours {g:+.4f}, autograd {t:+.4f}" for d, p, g, t in wrong[:3])
    return _verdict("grad", not wrong, "dL/d(delta) = sigma(delta) - p: zero exactly when the model's P(A) equals p",
                    f"differs from autograd at {len(wrong)} of 25 points, e.g. {detail}")


def check_share_preferring(share, r_reference, r_damaged) -> bool | None:
    """`share`: the fraction of posts on which a reward model scores the reference above the damaged summary."""
    if _unfilled("share", share):
        return None
    expected = float(np.mean(np.asarray(r_reference) > np.asarray(r_damaged)))
    return _verdict("share", _close(share, expected, 1e-9), f"{expected:.1%} of {len(r_reference)} posts",
                    f"you have {float(share):.3f}, expected {expected:.3f}: the mean of (r_reference > r_damaged)")


# ----------------------------------------------------------------------------------------------------------------
# 04 RL
# ----------------------------------------------------------------------------------------------------------------
def check_loo_advantages(advantages, rewards) -> bool | None:
    """`advantages`: the leave-one-out advantages of one prompt's k rewards, A_i = R_i - mean_{j != i} R_j."""
    if _unfilled("advantages", advantages):
        return None
    r = np.asarray(rewards, dtype=float)
    expected = r - (r.sum() - r) / (len(r) - 1)
    a = np.asarray(advantages, dtype=float)
    if a.shape == expected.shape and np.allclose(a, r - r.mean(), atol=1e-5) and not np.allclose(a, expected, atol=1e-5):
        return _verdict("advantages", False, "", "that subtracts the mean of all k rewards, the rollout's own "
                        "included: leave it out (its baseline must not depend on its own sample)")
    ok = a.shape == expected.shape and np.allclose(a, expected, atol=1e-5)
    return _verdict("advantages", ok, f"{np.round(expected, 4).tolist()} (they sum to zero)",
                    f"expected {np.round(expected, 4).tolist()}, you have {np.round(a, 4).tolist()}")


# ----------------------------------------------------------------------------------------------------------------
# 05 evaluation
# ----------------------------------------------------------------------------------------------------------------
def check_wins_over_games(draws, p) -> bool | None:
    """`draws`: win rates (wins / games) from repeatedly drawing one rater's choice per post, each a coin with
    probability p[post]. Their mean should be mean(p) and their spread sqrt(sum p(1 - p)) / n."""
    if _unfilled("draws", draws):
        return None
    d, p = np.asarray(draws, dtype=float), np.asarray(p, dtype=float)
    sd = math.sqrt(float(np.sum(p * (1 - p)))) / len(p)
    if d.ndim != 1 or len(d) < 100:
        return _verdict("draws", False, "", "give one win rate per repetition (at least 100 repetitions)")
    mean_ok = abs(d.mean() - p.mean()) < 4 * sd / math.sqrt(len(d)) + 1e-9
    sd_ok = 0.8 * sd < d.std() < 1.2 * sd
    return _verdict("draws", mean_ok and sd_ok, f"mean {d.mean():.3f} (expected preference {p.mean():.3f}), "
                    f"spread {d.std():.3f} (theory {sd:.3f})",
                    f"mean {d.mean():.3f} vs {p.mean():.3f}, spread {d.std():.3f} vs {sd:.3f}: each draw is a "
                    "coin per post with that post's probability, averaged over posts")


def check_share_longer(share, policy_summaries, sft_summaries) -> bool | None:
    """`share`: the fraction of posts on which the policy's summary has more words than SFT's."""
    if _unfilled("share_longer", share):
        return None
    expected = float(np.mean([len(a.split()) > len(b.split()) for a, b in zip(policy_summaries, sft_summaries)]))
    return _verdict("share_longer", _close(share, expected, 1e-9), f"{expected:.1%}",
                    f"you have {float(share):.3f}, expected {expected:.3f}: count words (str.split), strictly longer")


# ----------------------------------------------------------------------------------------------------------------
# 06 what if
# ----------------------------------------------------------------------------------------------------------------
def check_alignment(value, labels, pairs) -> bool | None:
    """`value`: the share of `pairs` on which the labels' argmax agrees with the human choice (ties count 1/2)."""
    from .method.labeling import alignment

    if _unfilled("alignment", value):
        return None
    expected = alignment(labels, pairs, n_boot=1)["value"]
    return _verdict("alignment", _close(value, expected, 1e-9), f"{expected:.1%}",
                    f"you have {float(value):.4f}, expected {expected:.4f}: p_a > 0.5 means 'A', compare with "
                    "choice == 0; a tie counts one half")
