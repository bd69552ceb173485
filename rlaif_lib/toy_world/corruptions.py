"""Worse (or equally good) summaries of a post, of known kinds: the toy world's stand-ins for
policy samples. `corrupt_summary` makes one kind; `sample_policy_pair` draws two like two samples
of one policy (close in quality); `policy_like_pairs` makes one such pair per post."""
from __future__ import annotations

import random

from .gold import _post_mentions
from .posts import (
    KEY_SLOTS,
    Post,
    _as_rng,
    _fill,
    _pick,
    _sample_facts,
    _words,
    author_tldr,
    key_facts,
    render_reference,
)
from .vocabulary import DISTRACTORS, DURATIONS, FEELINGS, RELATIONS, SLOT_TABLES

CORRUPTIONS = ("shuffled", "truncated", "off_topic", "fact_swapped", "drop_fact", "repeated", "verbose")
# what an SFT policy's samples look like: mostly TL;DRs like the ones it was trained on (an author's, with
# facts left out), some with a wrong fact, cut short, or padded
POLICY_LIKE_KINDS = ("author", "author", "author", "fact_swapped", "truncated", "verbose")


def corrupt_summary(post: Post, kind: str, rng) -> str:
    """A worse summary of `post` of a known kind (CORRUPTIONS), "paraphrase": an equally good rewording,
    or "author": a TL;DR like the post's author might write (`posts.author_tldr`, facts left out)."""
    rng = _as_rng(rng)
    if kind == "author":
        return author_tldr(post, rng)
    words = post.reference.split()
    facts, truth = post.facts, key_facts(post)
    if kind == "paraphrase":
        return render_reference(facts, rng)
    if kind == "shuffled":
        rng.shuffle(words)
        return " ".join(words)
    if kind == "truncated":
        return " ".join(words[: max(2, round(len(words) * rng.uniform(0.3, 0.6)))])
    if kind == "drop_fact":
        return render_reference(facts, rng, drop=_pick(rng, KEY_SLOTS))
    if kind == "repeated":
        start = rng.randrange(max(1, len(words) - 5))
        chunk = " ".join(words[start: start + rng.randint(4, 7)])
        return " ".join([post.reference] + [chunk] * rng.randint(2, 3))
    if kind == "verbose":
        extra = [_fill(s, _words(facts), rng) for s in rng.sample(DISTRACTORS + FEELINGS, rng.randint(2, 3))]
        return " ".join([post.reference] + extra)
    if kind == "off_topic":
        while True:
            other = _sample_facts(rng)
            if other["event"] != facts["event"] and other["other"] != facts["other"]:
                return render_reference(other, rng)
    if kind == "fact_swapped":  # one key fact replaced by a value that the post never mentions
        in_post = _post_mentions(f"{post.title}\n{post.body}")
        group = RELATIONS[facts["other"]][0]
        options = {"relation": [r for r, (g, _, _) in RELATIONS.items() if g == group],
                   "duration": sorted({d for ds in DURATIONS.values() for d in ds}),
                   **{s: [k for k, f in t.items() if group in f.groups] for s, t in SLOT_TABLES.items()}}
        slot = _pick(rng, KEY_SLOTS)
        choices = [v for v in options[slot] if v != truth[slot] and v not in in_post[slot]]
        if not choices:  # a roommate has no same-group alternative: take any other relation
            choices = [v for v in RELATIONS if v != truth[slot] and v not in in_post["relation"]]
            slot = "relation"
        value = _pick(rng, choices)
        swapped = dict(facts, **{("other" if slot == "relation" else slot): value})
        if slot == "relation" and RELATIONS[value][1]:
            swapped["other_gender"] = RELATIONS[value][1]
        return render_reference(swapped, rng)
    raise ValueError(f"unknown corruption kind {kind!r}; expected one of {CORRUPTIONS + ('paraphrase', 'author')}")


def sample_policy_pair(post: Post, rng) -> tuple[str, str, str, str]:
    """Two different summaries of `post` like two policy samples: (a, b, kind_a, kind_b), kinds in POLICY_LIKE_KINDS."""
    rng = _as_rng(rng)
    while True:
        kind_a, kind_b = _pick(rng, POLICY_LIKE_KINDS), _pick(rng, POLICY_LIKE_KINDS)
        a, b = corrupt_summary(post, kind_a, rng), corrupt_summary(post, kind_b, rng)
        if a != b:
            return a, b, kind_a, kind_b


def policy_like_pairs(posts: list[Post], seed: int = 0) -> list[tuple[Post, str, str]]:
    """One (post, a, b) pair of policy-like summaries per post."""
    rng = random.Random(f"policy-pairs:{seed}")
    return [(post, *sample_policy_pair(post, rng)[:2]) for post in posts]
