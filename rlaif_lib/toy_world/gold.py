"""The gold rater: the toy world's ground truth for how good any text is as a summary of a post.

    score = clip(coverage * coherence - WRONG_FACT_COST * wrong_facts - length_penalty - repetition, 0, 1)

Three things a summary can get partly right, as a reader of r/relationships would judge it:

- coverage (what matters): the IMPORTANCE-weighted share of the 5 key facts that the summary
  mentions: what happened (0.30) and what is asked (0.25) matter most, then the complication (0.20),
  who the other person is (0.15) and for how long (0.10). A fact counts as mentioned when a keyword
  pattern of it matches (`Fact.keys`). Ages are optional: they add no coverage, but a wrong one is a
  wrong fact. Details that are true but not key (a pet, the weather, how the author feels) add nothing.
- faithfulness: wrong_facts, the values the summary states that are false for this post.
- conciseness: the length penalty, which grows fast past MAX_WORDS: more facts make a summary longer
  and better only up to that point.
- wrong_facts: values the summary states that are false for this post and appear nowhere in it
  (another relation, duration, event, complication or question; an age/gender tag like "31M"
  that belongs to nobody in the post). Each costs WRONG_FACT_COST = 0.35.
- coherence: min(1, known_pairs / COHERENT_SHARE), COHERENT_SHARE = 0.8, where known_pairs is the
  share of adjacent word pairs that the toy world itself can produce (learned once from
  WORLD_SAMPLE_POSTS = 1500 posts and their summaries); shuffled words and junk get little credit.
- length_penalty: 0 for MIN_WORDS..MAX_WORDS = 8..32 words (every reference summary fits);
  LENGTH_PENALTY_MAX * (8 - n) / 8 below, LENGTH_PENALTY_MAX * (1 - exp(-(n - 32) / LONG_DECAY_WORDS))
  above (LENGTH_PENALTY_MAX = 0.6, LONG_DECAY_WORDS = 15: 40 words cost 0.25). An empty text scores 0
  with the full penalty.
- repetition: share of repeated word trigrams.
- Only the first MAX_SCORED_CHARS = 20,000 characters are read: more than enough words for the
  maximal length penalty, and a bound on the time a runaway policy sample can take.
"""
from __future__ import annotations

import math
import random
import re
import string
from functools import lru_cache

from .posts import KEY_SLOTS, Post, generate_posts, key_facts, render_reference
from .vocabulary import AGE_RE, DURATION_RE, NUMBER_WORDS, RELATIONS, SLOT_TABLES

IMPORTANCE = {"event": 0.30, "question": 0.25, "complication": 0.20, "relation": 0.15, "duration": 0.10}
MIN_WORDS, MAX_WORDS = 8, 32  # summary lengths with no length penalty
WRONG_FACT_COST = 0.35  # subtracted per wrong key fact
WRONG_AGE_COST = 0.10  # subtracted per invented age tag: wrong, but a detail
COHERENT_SHARE = 0.8  # share of known adjacent word pairs that earns full coherence
LENGTH_PENALTY_MAX = 0.6  # the length penalty of an empty text, and the limit for a very long one
LONG_DECAY_WORDS = 15  # how fast the penalty for words beyond MAX_WORDS approaches its maximum
WORLD_SAMPLE_POSTS = 1500  # posts (with their summaries) whose word pairs count as "known"
MAX_SCORED_CHARS = 20_000


@lru_cache(maxsize=None)
def _slot_patterns() -> dict:
    tables = {"relation": {rel: keys for rel, (_, _, keys) in RELATIONS.items()},
              **{slot: {k: f.keys for k, f in table.items()} for slot, table in SLOT_TABLES.items()}}
    return {slot: {k: re.compile(rf"\b(?:{keys})\b") for k, keys in t.items()} for slot, t in tables.items()}


def _durations(text: str) -> set:
    found = set()
    for num, unit in DURATION_RE.findall(text):
        n = int(num) if num.isdigit() else 1 if num in ("a", "an") else NUMBER_WORDS.index(num)
        unit = {"yr": "year", "mo": "month", "wk": "week"}.get(unit, unit)
        found.add(f"{n} {unit}" + ("s" if n != 1 else ""))
    return found


def _mentions(text: str) -> dict:
    """Which value of each key slot a lower-cased text mentions: slot -> set of values."""
    said = {slot: {k for k, pat in pats.items() if pat.search(text)} for slot, pats in _slot_patterns().items()}
    said["duration"] = _durations(text)
    said["ages"] = {(int(a), g.upper()) for a, g in AGE_RE.findall(text)}
    return said


@lru_cache(maxsize=50_000)
def _post_mentions(post_text: str) -> dict:
    """`_mentions` of a post's title and body, cached: every summary of a post is checked against it."""
    return _mentions(post_text.lower())


def _norm(word: str) -> str:
    word = word.lower().replace("\u2019", "'").strip(string.punctuation + "\u201c\u201d\u2018")
    return re.sub(r"\d+", "0", word) or "<junk>"


@lru_cache(maxsize=1)
def _world_ngrams() -> tuple[frozenset, frozenset]:
    """Every word and adjacent word pair that the toy world produces (from WORLD_SAMPLE_POSTS posts + summaries)."""
    texts = []
    for post in generate_posts(WORLD_SAMPLE_POSTS, "sft", seed=-1):
        rng = random.Random(post.id)
        texts += [post.title, post.body, post.reference]
        texts += [render_reference(post.facts, rng, drop=d) for d in (None, None, *KEY_SLOTS)]
    words, pairs = set(), set()
    for text in texts:
        toks = [_norm(t) for t in text.split()]
        words.update(toks)
        pairs.update(zip(toks, toks[1:]))
    return frozenset(words), frozenset(pairs)



def gold_breakdown(post: Post, summary: str) -> dict:
    """All the parts of the gold score (see the module docstring), plus the score itself."""
    text = summary if isinstance(summary, str) else "" if summary is None else str(summary)
    words = text[:MAX_SCORED_CHARS].split()
    n = len(words)
    if n == 0:
        return dict(score=0.0, coverage=0.0, covered=[], wrong_facts=[], coherence=0.0, oov_share=0.0,
                    length_words=0, length_penalty=LENGTH_PENALTY_MAX, repetition=0.0)
    said = _mentions(" ".join(words).lower())
    in_post = _post_mentions(f"{post.title}\n{post.body}")
    truth = key_facts(post)
    covered = [slot for slot in KEY_SLOTS if truth[slot] in said[slot]]
    wrong = [f"{slot}: {v}" for slot in KEY_SLOTS for v in sorted(said[slot])
             if v != truth[slot] and v not in in_post[slot]]
    wrong += [f"age: {a}{g}" for a, g in sorted(said["ages"] - in_post["ages"])]
    vocab, known_pairs = _world_ngrams()
    toks = [_norm(w) for w in words]
    pairs = list(zip(toks, toks[1:]))
    known = sum(p in known_pairs for p in pairs) / len(pairs) if pairs else float(toks[0] in vocab)
    coherence = min(1.0, known / COHERENT_SHARE)
    trigrams = list(zip(toks, toks[1:], toks[2:]))
    repetition = 1 - len(set(trigrams)) / len(trigrams) if trigrams else 0.0
    if n < MIN_WORDS:
        length_penalty = LENGTH_PENALTY_MAX * (MIN_WORDS - n) / MIN_WORDS
    else:
        length_penalty = LENGTH_PENALTY_MAX * (1 - math.exp(-max(0, n - MAX_WORDS) / LONG_DECAY_WORDS))
    coverage = sum(IMPORTANCE[slot] for slot in covered)
    wrong_cost = sum(WRONG_AGE_COST if w.startswith("age:") else WRONG_FACT_COST for w in wrong)
    score = coverage * coherence - wrong_cost - length_penalty - repetition
    return dict(score=float(min(1.0, max(0.0, score))), coverage=coverage, covered=covered, wrong_facts=wrong,
                coherence=coherence, oov_share=sum(t not in vocab for t in toks) / n, length_words=n,
                length_penalty=length_penalty, repetition=repetition)


def gold_score(post: Post, summary: str) -> float:
    """Gold quality in [0, 1] of any text as a summary of `post`; deterministic, never raises."""
    return gold_breakdown(post, summary)["score"]
