"""The toy world: seeded posts, the gold score, corruptions, simulated raters, exports."""
import math
import random
import time

import numpy as np
import pytest

from rlaif_lib import data
from rlaif_lib import toy_world as tw
from rlaif_lib.toy_world import gold, raters, vocabulary
from rlaif_lib.toy_world import posts as posts_module


@pytest.fixture(scope="module")
def posts():
    return tw.generate_posts(100, "eval", seed=0)


def test_same_seed_same_data_and_prefix_stable():
    a = tw.generate_posts(30, "sft", seed=0)
    assert a == tw.generate_posts(30, "sft", seed=0)
    assert a[:10] == tw.generate_posts(10, "sft", seed=0)  # post i depends only on (seed, split, i)
    assert [p.body for p in a] != [p.body for p in tw.generate_posts(30, "sft", seed=1)]


def test_splits_are_disjoint():
    by_split = {split: tw.generate_posts(300, split, seed=0) for split in posts_module.SPLITS}
    ids = [p.id for ps in by_split.values() for p in ps]
    assert len(set(ids)) == len(ids)
    assert by_split["label"][42].id == "label-00042"
    texts = {split: {(p.title, p.body) for p in ps} for split, ps in by_split.items()}
    assert not texts["sft"] & texts["label"] and not texts["sft"] & texts["eval"] and not texts["label"] & texts["eval"]
    with pytest.raises(ValueError):
        tw.generate_posts(1, "train")


def test_post_shape(posts):
    for p in posts:
        f = p.facts
        assert 35 <= len(p.body.split()) <= 90
        assert 12 <= len(p.reference.split()) <= 35
        assert f"({f['narrator_age']}{f['narrator_gender']})" in p.body or f"I'm {f['narrator_age']}" in p.body
        assert not p.subreddit.startswith("r/") and p.title
        assert {"narrator_age", "narrator_gender", "other", "other_age", "duration", "event", "complication",
                "question"} <= set(f)
    p = posts[0]
    assert tw.format_prompt(p) == f"SUBREDDIT: r/{p.subreddit}\n\nTITLE: {p.title}\n\nPOST: {p.body}\n\nTL;DR:"
    assert len({p.facts["event"] for p in tw.generate_posts(400, "sft")}) >= 30  # varied events
    assert len({p.reference.split()[0] for p in posts}) >= 5  # varied wordings


def test_fact_keys_are_unambiguous():
    """Each phrasing mentions only its own fact; distractors mention none; posts and references only their own."""
    for gender in "MF":
        w = posts_module._words({"other_gender": gender, "other": "boyfriend", "narrator_age": 24, "narrator_gender": "F",
                       "other_age": 26, "duration": "2 years"})
        fill = {k: v[0] for k, v in vocabulary.FILLERS.items()}
        for slot, table in vocabulary.SLOT_TABLES.items():
            for key, fact in table.items():
                for text in fact.post + fact.summary:
                    said = gold._mentions(text.format(**w).lower())
                    assert said[slot] == {key}, (slot, key, text)
                    assert not any(said[s] for s in posts_module.KEY_SLOTS if s != slot), text
        for text in vocabulary.DISTRACTORS + vocabulary.FEELINGS + vocabulary.OPENERS + vocabulary.VAGUE["event"] + vocabulary.VAGUE["question"]:
            said = gold._mentions(text.format(**w, **fill).lower())
            assert not any(said[s] for s in posts_module.KEY_SLOTS) and not said["ages"], text
    for p in tw.generate_posts(300, "label"):
        truth = posts_module.key_facts(p)
        in_post, in_reference = gold._mentions((p.title + " " + p.body).lower()), gold._mentions(p.reference.lower())
        for slot in posts_module.KEY_SLOTS:
            assert in_reference[slot] == {truth[slot]}, (p.reference, slot)
            assert in_post[slot] <= {truth[slot]}, (p.id, slot)


def test_reference_beats_corruptions(posts):
    rng = random.Random(0)
    reference = [tw.gold_score(p, p.reference) for p in posts]
    assert np.mean(reference) >= 0.95
    means = {}
    for kind in ("shuffled", "truncated", "off_topic", "fact_swapped", "drop_fact", "repeated"):
        scores = [tw.gold_score(p, tw.corrupt_summary(p, kind, rng)) for p in posts]
        wins = np.mean([r > s for r, s in zip(reference, scores)])
        assert wins >= 0.95, (kind, wins)
        means[kind] = np.mean(scores)
    verbose = [tw.gold_score(p, tw.corrupt_summary(p, "verbose", rng)) for p in posts]
    assert np.mean([r >= s for r, s in zip(reference, verbose)]) == 1.0 and np.mean(verbose) < 0.95
    assert means["off_topic"] < means["shuffled"] < means["fact_swapped"] < means["drop_fact"]
    paraphrase = [tw.gold_score(p, tw.corrupt_summary(p, "paraphrase", rng)) for p in posts]
    assert np.mean(paraphrase) >= 0.95


def test_gold_breakdown_names_the_wrong_facts(posts):
    p = posts[0]
    f = p.facts
    wrong_relation = "husband" if f["other"] != "husband" else "wife"
    text = f"My {wrong_relation} ({f['other_age'] + 7}M) of 11 years did something hurtful. What should I do?"
    b = tw.gold_breakdown(p, text)
    assert f"relation: {wrong_relation}" in b["wrong_facts"] and "duration: 11 years" in b["wrong_facts"]
    assert f"age: {f['other_age'] + 7}M" in b["wrong_facts"]
    assert b["score"] == 0.0 and b["coverage"] == 0.0
    b = tw.gold_breakdown(p, p.reference)
    assert b["covered"] == list(posts_module.KEY_SLOTS) and b["wrong_facts"] == [] and b["score"] == 1.0
    for key in ("coverage", "wrong_facts", "length_penalty", "repetition", "coherence", "oov_share"):
        assert key in b


@pytest.mark.parametrize("junk", ["", None, "   ", 42, "\u2603\u2603 \U0001f916 \x00\x01", "a", "TL;DR: " * 200_000,
                                  "boyfriend " * 500, "\n\n\n", "<|endoftext|>", "42 42 42 42 42 42 42 42 42 42"])
def test_gold_score_is_robust_to_junk(posts, junk):
    start = time.perf_counter()
    score = tw.gold_score(posts[1], junk)
    assert 0.0 <= score <= 0.1 and score == tw.gold_score(posts[1], junk)
    assert time.perf_counter() - start < 2.0


def test_corrupt_summary_accepts_seeds_and_generators(posts):
    p = posts[2]
    assert tw.corrupt_summary(p, "shuffled", 3) == tw.corrupt_summary(p, "shuffled", 3)
    assert isinstance(tw.corrupt_summary(p, "fact_swapped", np.random.default_rng(0)), str)
    with pytest.raises(ValueError):
        tw.corrupt_summary(p, "nonsense", 0)


def test_rater_choice_probability_is_sigmoid_of_margin():
    rng = random.Random(0)
    for margin in (0.0, tw.TAU, -2 * tw.TAU):
        share_a = np.mean([raters._rate(margin, rng, tw.TAU)[0] == 0 for _ in range(4000)])
        assert abs(share_a - 1 / (1 + math.exp(-margin / tw.TAU))) < 0.03


def test_human_preference_prefers_the_reference_confidently(posts):
    rng = np.random.default_rng(0)
    ratings = [tw.human_preference(p, p.reference, tw.corrupt_summary(p, "off_topic", 1), rng) for p in posts]
    assert all(choice == 0 for choice, _ in ratings)
    assert np.mean([conf <= 2 for _, conf in ratings]) >= 0.9  # "definitely summary A" on the 9-point scale
    swapped = [tw.human_preference(p, tw.corrupt_summary(p, "off_topic", 1), p.reference, rng) for p in posts]
    assert all(choice == 1 for choice, _ in swapped)


@pytest.fixture(scope="module")
def policy_pairs():
    return tw.policy_like_pairs(tw.generate_posts(3000, "eval", seed=1), seed=1)


def test_rater_agreement_is_in_the_range_of_real_raters(policy_pairs):
    """TAU was calibrated on a tiny run's candidate pairs (75%: the sample stage measures it on each run);
    on policy-like pairs of held-out posts two raters agree about as often as real ones do (65-77%), and
    noisier raters agree less."""
    assert 0.65 <= tw.rater_agreement(policy_pairs, seed=0) <= 0.77
    assert 0.65 <= tw.rater_agreement(policy_pairs, seed=1) <= 0.77
    assert tw.rater_agreement(policy_pairs[:1000], tau=10 * tw.TAU) < 0.6


def test_confidence_is_openai_9_point_scale_and_high_confidence_agrees_more(policy_pairs):
    """Simulated raters speak OpenAI's scale: 1-4 with choice 0, 6-9 with choice 1, never 5; pairs
    a rater calls high-confidence (strength |c - 5| >= 3) are ones a second rater agrees on more often."""
    rng = random.Random(0)
    by_strength = {"low": [], "high": []}
    seen = set()
    for p, a, b in policy_pairs[:2000]:
        (c1, k1), (c2, _) = tw.human_preference(p, a, b, rng), tw.human_preference(p, a, b, rng)
        assert k1 in (1, 2, 3, 4) if c1 == 0 else k1 in (6, 7, 8, 9)
        seen.add(k1)
        by_strength["high" if data.preference_strength(k1) >= data.HIGH_CONFIDENCE_STRENGTH else "low"].append(c1 == c2)
    assert seen == {1, 2, 3, 4, 6, 7, 8, 9}
    assert min(map(len, by_strength.values())) >= 200
    assert np.mean(by_strength["high"]) >= np.mean(by_strength["low"]) + 0.15
    # both positions among high-confidence pairs (a rule like confidence >= 8 would keep only summary B's wins)
    from tests.conftest import toy_comparison_rows

    rows = data.comparisons_to_pairs(toy_comparison_rows("train", n=300))
    assert {r["choice"] for r in rows if data.preference_strength(r["confidence"]) >= data.HIGH_CONFIDENCE_STRENGTH} == {0, 1}


def test_exports_fit_the_real_schemas(posts):
    rows = tw.sft_rows(posts[:5])
    data.check_sft_rows(rows)
    assert rows[0] == {"prompt": tw.format_prompt(posts[0]), "completion": " " + tw.author_tldr(posts[0])}
    p = posts[0]
    row = tw.comparison_row(p, p.reference, "short", 1, 7, policies=("ref", "sft"))
    data.check_comparison_rows([row])
    assert row["info"] == {"id": p.id, "post": p.body, "title": p.title, "subreddit": p.subreddit, "site": None,
                           "article": None}
    assert [s["policy"] for s in row["summaries"]] == ["ref", "sft"] and row["summaries"][1]["text"] == " short"
    assert row["choice"] == 1 and row["extra"] == {"confidence": 7}
    assert {"worker", "batch", "split"} <= set(row)


def test_quality_has_three_dimensions_and_room_above_the_authors_tldrs(posts):
    """The authors' TL;DRs (the SFT targets) leave key facts out and score well below the ideal reference;
    an important fact left out costs more than a minor one (coverage), an invented fact costs (faithfulness),
    and true but unimportant words past MAX_WORDS cost more the more there are (conciseness)."""
    reference = [tw.gold_score(p, p.reference) for p in posts]
    author = [tw.gold_score(p, tw.author_tldr(p)) for p in posts]
    assert np.mean(reference) >= 0.95 and 0.5 <= np.mean(author) <= 0.75
    assert tw.author_tldr(posts[0]) == tw.author_tldr(posts[0])  # the author wrote one TL;DR
    rng = random.Random(0)
    for p in posts[:20]:
        no_event, no_duration = (tw.render_reference(p.facts, rng, drop=slot) for slot in ("event", "duration"))
        assert tw.gold_score(p, no_event) < tw.gold_score(p, no_duration) < 1.0
        assert tw.gold_score(p, tw.render_reference(p.facts, rng, drop=("event", "question"))) < tw.gold_score(p, no_event)
    p = posts[0]
    padded = [tw.gold_score(p, " ".join([p.reference, *vocabulary.FEELINGS[:k]])) for k in range(5)]
    assert padded == sorted(padded, reverse=True) and padded[-1] < 0.8
    assert tw.gold_breakdown(p, " ".join([p.reference, *vocabulary.FEELINGS]))["length_words"] > gold.MAX_WORDS


def test_longer_summaries_win_as_often_as_in_real_data():
    """Two TL;DRs of a post like an SFT policy's samples (the author's kind): the simulated raters prefer the
    longer one in 60-72% of pairs whose lengths differ (OpenAI's human comparisons: 64-71%, SOURCES.md)."""
    rng = random.Random(0)
    longer = []
    for p in tw.generate_posts(1500, "eval", seed=2):
        a, b = tw.author_tldr(p, rng), tw.author_tldr(p, rng)
        if len(a.split()) != len(b.split()):
            p_a = 1 / (1 + math.exp(-(tw.gold_score(p, a) - tw.gold_score(p, b)) / tw.TAU))
            longer.append(p_a if len(a.split()) > len(b.split()) else 1 - p_a)
    assert len(longer) > 1000 and 0.60 <= np.mean(longer) <= 0.72
