"""Posts of the toy world: latent facts, the post written from them, and a reference TL;DR.

A post has latent facts: the narrator ("I (24F)"), the other person ("my boyfriend (26M)"), how
long they have known each other, what happened (the event), a complication, and the question
asked. Templates (vocabulary.py) turn the facts into English; distractor sentences (weather, a pet,
the narrator's job, what a friend said) are not key facts. Posts are 35-90 words, shorter than real
TL;DR posts, so that a 135M labeler on a laptop CPU reads hundreds of pairs in minutes.

Post i of a split depends only on (seed, split, i): its own `random.Random`, drawn from in a fixed
order, so the same seed gives the same posts, byte for byte.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ..tldr import tldr_prompt
from .vocabulary import (
    AGE_GAP,
    COMPLICATIONS,
    DISTRACTORS,
    DURATIONS,
    EVENTS,
    FEELINGS,
    FILLERS,
    INTROS,
    NO_COMPLICATION_TEMPLATE,
    OPENERS,
    QUESTION_LEADS,
    QUESTIONS,
    REFERENCE_TEMPLATES,
    RELATIONS,
    SHORT_NAMES,
    SLOT_TABLES,
    SUBJECTS,
    SUBJECTS_NO_DURATION,
    SUBJECTS_NO_RELATION,
    SUBJECTS_NO_RELATION_DURATION,
    SUBREDDITS,
    TITLES,
    VAGUE,
)

SPLITS = ("sft", "label", "eval")
KEY_SLOTS = ("relation", "duration", "event", "complication", "question")
AUTHOR_DROPS = (0.10, 0.30, 0.35, 0.25)  # P(an author's TL;DR leaves out 0, 1, 2, 3 of the key facts)
AUTHOR_FEELING = 0.2  # P(an author's TL;DR ends with how they feel)
# how readily an author leaves each fact out: the question and the complication most, who it is about least
AUTHOR_DROP_WEIGHTS = {"question": 0.3, "complication": 0.3, "duration": 0.2, "event": 0.1, "relation": 0.1}


@dataclass
class Post:
    id: str  # "sft-00042": unique across splits
    subreddit: str  # without "r/"
    title: str
    body: str
    facts: dict  # latent facts, slot -> value
    reference: str  # a reference TL;DR



def _pick(rng, items):
    return items[rng.randrange(len(items))]


def _as_rng(rng) -> random.Random:
    """Accept a random.Random, an int seed, or a numpy Generator; return a random.Random."""
    if isinstance(rng, random.Random):
        return rng
    if hasattr(rng, "integers"):  # numpy.random.Generator
        return random.Random(int(rng.integers(2**63)))
    return random.Random(rng)


def _words(facts: dict, rng=None) -> dict:
    """Template variables for a post's facts: pronouns, ages, relation, duration."""
    g = facts["other_gender"]
    he, him, his = ("he", "him", "his") if g == "M" else ("she", "her", "her")
    rel = facts["other"]
    r = SHORT_NAMES[rel] if rng is not None and rel in SHORT_NAMES and rng.random() < 0.3 else rel
    return dict(he=he, him=him, his=his, He=he.capitalize(), His=his.capitalize(), rel=rel, Rel=rel.capitalize(),
                r=r, na=f"{facts['narrator_age']}{facts['narrator_gender']}", oa=f"{facts['other_age']}{g}",
                dur=facts["duration"])


def _sample_facts(rng: random.Random) -> dict:
    rel = _pick(rng, list(RELATIONS))
    group, gender, _ = RELATIONS[rel]
    narrator_age = rng.randint(18, 42)
    lo, hi = (20, 34) if rel in ("mom", "dad") else AGE_GAP[group]
    other_age = max(18, narrator_age + rng.randint(lo, hi))
    durations = [d for d in DURATIONS[group] if "month" in d or int(d.split()[0]) <= narrator_age - 14]
    return {
        "narrator_age": narrator_age, "narrator_gender": _pick(rng, "MF"), "other": rel, "other_age": other_age,
        "other_gender": gender or _pick(rng, "MF"), "duration": _pick(rng, durations),
        **{slot: _pick(rng, [k for k, f in table.items() if group in f.groups]) for slot, table in SLOT_TABLES.items()},
    }


def _fill(template: str, w: dict, rng: random.Random) -> str:
    """Fill a template with the post's words and random distractor fillers (jobs, pets, names...)."""
    extra = {k: _pick(rng, v) for k, v in FILLERS.items()}
    return template.format(**w, **extra)


def render_reference(facts: dict, rng: random.Random, drop=None) -> str:
    """A TL;DR that states the key facts in a random wording; `drop` (a KEY_SLOTS name, or several)
    leaves those facts out (a dropped event or question becomes a vague stand-in: "hurt me badly", "Thoughts?")."""
    dropped = {drop} if isinstance(drop, str) else set(drop or ())
    w = _words(facts, rng)
    if {"relation", "duration"} <= dropped:
        subjects = SUBJECTS_NO_RELATION_DURATION
    elif dropped & {"relation", "duration"}:
        subjects = SUBJECTS_NO_RELATION if "relation" in dropped else SUBJECTS_NO_DURATION
    else:
        subjects = SUBJECTS[RELATIONS[facts["other"]][0]]
    subject = _pick(rng, subjects)
    if subject.startswith("my ") and rng.random() < 0.3:
        subject = subject[3:]  # terse Reddit style: "bf of 2 years forgot my birthday..."
    event, question = (_pick(rng, VAGUE[slot] if slot in dropped else SLOT_TABLES[slot][facts[slot]].summary)
                       for slot in ("event", "question"))
    template = NO_COMPLICATION_TEMPLATE if "complication" in dropped else _pick(rng, REFERENCE_TEMPLATES)
    complication = _pick(rng, COMPLICATIONS[facts["complication"]].summary)
    text = " ".join(template.format(S=subject.format(**w), E=event.format(**w), C=complication.format(**w),
                                    Q=question.format(**w), na=w["na"]).split())
    return re.sub(r"(^|[.?!] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)  # capitalize sentences


def author_tldr(post: Post, rng=None) -> str:
    """The TL;DR the post's author wrote, as real Reddit authors do: it often leaves key facts out
    (0-3 of the 5, with probabilities AUTHOR_DROPS; which ones, AUTHOR_DROP_WEIGHTS) and sometimes adds how the author feels (AUTHOR_FEELING),
    words that carry no key fact. These are the SFT targets, so the SFT policy inherits their gaps and
    RL has room to improve on it; `post.reference`, the ideal summary, states all five facts.
    Deterministic: it depends only on the post (`rng` draws another TL;DR of the same kind)."""
    rng = random.Random(f"author-tldr:{post.id}:{post.body}") if rng is None else _as_rng(rng)
    n_dropped = rng.choices(range(len(AUTHOR_DROPS)), weights=AUTHOR_DROPS)[0]
    left = dict(AUTHOR_DROP_WEIGHTS)
    dropped = []
    for _ in range(n_dropped):  # weighted sampling without replacement
        dropped.append(rng.choices(list(left), weights=list(left.values()))[0])
        del left[dropped[-1]]
    text = render_reference(post.facts, rng, drop=dropped)
    if rng.random() < AUTHOR_FEELING:
        text += " " + _pick(rng, FEELINGS)
    return text


def _render_body(facts: dict, rng: random.Random) -> str:
    w = _words(facts)
    core = [_pick(rng, INTROS[RELATIONS[facts["other"]][0]]), _pick(rng, EVENTS[facts["event"]].post),
            _pick(rng, COMPLICATIONS[facts["complication"]].post)]
    if rng.random() < 0.7:
        core.append(_pick(rng, FEELINGS))
    question = _pick(rng, QUESTIONS[facts["question"]].post)
    lead = _pick(rng, QUESTION_LEADS)
    core.append(lead + (question[0].lower() + question[1:] if lead and not lead.endswith(". ") else question))
    if rng.random() < 0.3:
        core.insert(0, _pick(rng, OPENERS))
    pool = rng.sample(DISTRACTORS, len(DISTRACTORS))
    distractors = pool[: rng.randint(0, 2)]
    while True:
        sentences = [_fill(s, w, rng) for s in core]
        for d in distractors:  # anywhere after the intro, before the question
            sentences.insert(1 + rng.randrange(len(sentences) - 1), _fill(d, w, rng))
        body = " ".join(sentences)
        n = len(body.split())
        if n < 35 and len(distractors) < len(pool):
            distractors = pool[: len(distractors) + 1]
        elif n > 90 and distractors:
            distractors = distractors[:-1]
        else:
            return body


def _make_post(post_id: str, rng: random.Random) -> Post:
    facts = _sample_facts(rng)
    w = _words(facts)
    group = RELATIONS[facts["other"]][0]
    title = _pick(rng, TITLES).format(**w, event=_pick(rng, EVENTS[facts["event"]].summary).format(**w),
                                      question=_pick(rng, QUESTIONS[facts["question"]].summary).format(**w))
    return Post(id=post_id, subreddit=_pick(rng, SUBREDDITS[group]), title=title, body=_render_body(facts, rng),
                facts=facts, reference=render_reference(facts, rng))


def generate_posts(n: int, split: str = "sft", seed: int = 0) -> list[Post]:
    """The first `n` posts of a split; post i depends only on (seed, split, i), so splits are disjoint."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return [post_at(split, i, seed) for i in range(n)]


def post_at(split: str, index: int, seed: int = 0) -> Post:
    """Post `index` of a split, id "<split>-<index:05d>": it depends only on (seed, split, index)."""
    return _make_post(f"{split}-{index:05d}", random.Random(f"toytldr:{seed}:{split}:{index}"))



def format_prompt(post: Post) -> str:
    """The post as a trl-lib/tldr prompt: SUBREDDIT / TITLE / POST / TL;DR:."""
    return tldr_prompt(post.subreddit, post.title, post.body)



def key_facts(post: Post) -> dict:
    """The true value of each key slot (KEY_SLOTS) of a post."""
    return {slot: post.facts["other"] if slot == "relation" else post.facts[slot] for slot in KEY_SLOTS}
