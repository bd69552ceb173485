"""Real human judgments (notebook 02b): each function on small hand-made pairs with known answers, and the
committed SmolLM2 labels' consistency with the halves they were measured on."""
import numpy as np
import pytest

from rlaif_lib import data
from rlaif_lib.experiments import human_judgments as hj

SFT, RLHF = hj.SFT_POLICY, hj.RLHF_POLICY


def pair(post_id, a, b, choice, worker="w1", confidence=None, policy_a=SFT, policy_b=RLHF, post=None):
    confidence = confidence if confidence is not None else (1 if choice == 0 else 9)
    p = {"id": post_id, "post": post or f"post {post_id} text", "title": "t", "subreddit": "r",
         "summary_a": a, "summary_b": b, "policy_a": policy_a, "policy_b": policy_b,
         "choice": choice, "confidence": confidence, "worker": worker}
    return dict(p, pair_id=data.pair_id(p))


def test_agreement_counts_pairs_of_labels_by_different_workers_in_either_order():
    rows = [pair("p1", "x", "y", 0, "w1"), pair("p1", "x", "y", 0, "w2"), pair("p1", "y", "x", 0, "w3"),  # w3 chose y
            pair("p2", "u", "v", 1, "w1"), pair("p2", "u", "v", 1, "w1"),  # the same worker twice: not counted
            pair("p3", "s", "t", 0, "w1")]  # labelled once: no pair of labels
    assert sorted(hj.agreement_indicators(rows)) == [0.0, 0.0, 1.0]
    got = hj.inter_annotator_agreement(rows)
    assert got["n"] == 3 and got["value"] == pytest.approx(1 / 3)


def test_agreement_on_the_whole_file_is_openais_72_6_percent_over_773_label_pairs():
    got = hj.inter_annotator_agreement(hj.load_pairs(None))
    assert got["n"] == 773 and round(100 * got["value"], 1) == 72.6 and got["ci_low"] < got["value"] < got["ci_high"]


def test_policy_win_rate_follows_the_policy_in_either_position():
    rows = [pair("p1", "a", "b", 1, policy_a=SFT, policy_b=RLHF),   # RLHF in position 2, chosen
            pair("p2", "a", "b", 0, policy_a=RLHF, policy_b=SFT),   # RLHF in position 1, chosen
            pair("p3", "a", "b", 1, policy_a=RLHF, policy_b=SFT),   # RLHF lost
            pair("p4", "a", "b", 0, policy_a=SFT, policy_b=SFT)]    # no RLHF summary: left out
    assert hj.policy_win_rate(rows) == pytest.approx({**hj.policy_win_rate(rows), "value": 2 / 3, "n": 3})
    assert hj.policy_win_rate(rows, SFT)["value"] == pytest.approx(1 / 3)


def test_length_controlled_win_rate_removes_a_planted_length_effect():
    rows = []
    for i in range(200):  # RLHF twice as long in half the pairs (wins 80% of those), half as long in the rest
        longer = i % 2 == 0  # (wins 20%): the win rate at equal length is 50%
        wins = (i // 2) % 5 != 0 if longer else (i // 2) % 5 == 0
        rows.append(pair(f"p{i}", "w " * (10 if longer else 20), "w " * (20 if longer else 10), 1 if wins else 0))
    raw, lc = hj.policy_win_rate(rows), hj.length_controlled_win_rate(rows, n_boot=50)
    assert raw["value"] == 0.5 and lc["n"] == 200 and lc["ci_low"] <= lc["value"] <= lc["ci_high"]
    assert abs(lc["value"] - 0.5) < 0.05
    skewed = [pair(f"q{i}", "w " * 10, "w " * 20, 1 if i % 4 else 0) for i in range(40)]  # always longer, wins 75%
    assert hj.policy_win_rate(skewed)["value"] == 0.75
    lengths = hj.word_lengths(skewed)
    assert lengths["policy"]["value"] == 20 and lengths["other"]["value"] == 10 and lengths["ratio"]["value"] == 2


def test_alignment_counts_every_judgment_of_a_labelled_pair_and_the_high_confidence_ones():
    rows = [pair("p1", "x", "y", 0, "w1", confidence=1), pair("p1", "x", "y", 1, "w2", confidence=6),
            pair("p2", "u", "v", 1, "w1", confidence=9)]
    labels = {rows[0]["pair_id"]: {"id": "p1", "p_a": 0.8}, rows[2]["pair_id"]: {"id": "p2", "p_a": 0.5}}
    everything = hj.alignment_of(labels, rows)
    assert everything["n"] == 3 and everything["value"] == pytest.approx((1 + 0 + 0.5) / 3)
    high = hj.alignment_of(labels, rows, min_strength=data.HIGH_CONFIDENCE_STRENGTH)
    assert high["n"] == 2 and high["value"] == pytest.approx(0.75)
    assert [p["id"] for p in hj.high_confidence(rows)] == ["p1", "p2"]
    table = hj.alignment_table({"x": labels}, rows)
    assert table[0]["labeler"] == "x" and table[0]["all"]["n"] == 3 and table[0]["high_confidence"]["n"] == 2
    assert len(hj.unique_pairs(rows)) == 2 and len(hj.seeded_subset(rows, 1, seed=3)) == 1
    asset = {"labels": {"x": {"test": labels, "selection": {}}}}
    assert hj.labeler_labels(asset, "test") == {"x": labels}
    assert list(hj.labeler_labels(asset, "test", rows[2:])["x"]) == [rows[2]["pair_id"]]


def test_position_bias_of_a_labeler_that_always_says_1():
    rows = {f"k{i}": {"p_a": 0.5, "probs_ab": [0.9, 0.1], "probs_ba": [0.9, 0.1], "same_position": True,
                      "position": "first"} for i in range(4)}
    got = hj.position_bias_of(rows)
    assert got["same_position_pct"] == 100 and got["direction"] == "first" and got["calls_first_pct"] == 100
    assert got["same_position"]["value"] == 1.0 and got["same_position"]["n"] == 4


def test_the_embedding_reward_model_learns_a_planted_feature():
    rng = np.random.default_rng(0)
    good = {f"good {i}": np.r_[1.0, rng.normal(size=7)] for i in range(120)}
    bad = {f"bad {i} with many more words in it": np.r_[-1.0, rng.normal(size=7)] for i in range(120)}
    vec = {**good, **bad}

    def fake_embed(texts):  # dimension 0 is quality; posts embed to noise
        return np.array([vec[t] if t in vec else rng.normal(size=8) for t in texts])

    rows = []
    for i in range(120):  # the good summary in either position, and the SHORTER one, so length cannot help
        g, b = f"good {i}", f"bad {i} with many more words in it"
        rows.append(pair(f"p{i}", g, b, 0) if i % 2 else pair(f"p{i}", b, g, 1))
    got = hj.embedding_reward_model(rows[:80], rows[80:], embed_fn=fake_embed, with_post=False)
    assert got["accuracy"]["value"] == 1.0 and got["accuracy"]["n"] == 40
    assert got["longer_wins"]["value"] == 0.0 and got["margin_length_corr"] < -0.9
    assert got["features"] == 8 and got["n_train"] == 80
    with_post = hj.pair_features(rows[:3], fake_embed, with_post=True)
    assert with_post.shape == (3, 16)


def test_embed_gives_unit_vectors_from_the_offline_minilm():
    e = hj.embed(["my dog ran away", "we broke up"])
    assert e.shape == (2, 384) and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-4)


def test_verdicts_respect_the_intervals():
    a, b = {"value": 0.7, "ci_low": 0.65, "ci_high": 0.75}, {"value": 0.5, "ci_low": 0.45, "ci_high": 0.55}
    assert hj.verdict(a, b, "A", "B") == "A beats B" and hj.verdict(b, a, "B", "A") == "B loses to A"
    assert "cannot be told apart" in hj.verdict(a, dict(b, ci_high=0.66), "A", "B")
    assert hj.versus_chance(a, "A") == "A beats a coin flip" and "cannot be told apart" in hj.versus_chance(b, "B")


def test_recomputing_the_labels_with_a_tiny_labeler(tiny_lm, tmp_path):
    from rlaif_lib.method.labeling import LabelConfig

    selection = [pair(f"s{i}", f"my dog ran away {i}", f"we live together {i}", i % 2, confidence=[1, 9][i % 2])
                 for i in range(5)]
    test = [pair(f"t{i}", f"she says work {i}", f"he forgot birthday {i}", i % 2) for i in range(4)]
    configs = ("base-0", "base-1")  # the Detailed preamble is longer than the tiny model's 1024 positions
    out = hj.compute_smollm2_labels(2, 2, cache_path=tmp_path / "cache.jsonl", labeler=tiny_lm, selection=selection,
                                    test=test, base=LabelConfig(chat_template=False, max_post_tokens=None),
                                    configs=configs)
    assert out["selection"]["chosen"] in configs and set(out["labels"]) == set(configs)
    chosen = out["labels"][out["selection"]["chosen"]]
    assert set(chosen["test"]) == {p["pair_id"] for p in test}
    others = [v for k, v in out["labels"].items() if k != out["selection"]["chosen"]]
    assert all(len(v["test"]) == 2 and len(v["selection"]) == 2 for v in others)
    exemplar = out["exemplars"][0]["pair_id"]
    assert all(exemplar not in v["selection"] for v in out["labels"].values())


# ----------------------------------------------------------------------------- the committed asset
@pytest.fixture(scope="module")
def asset():
    return hj.load_smollm2_labels()


def test_the_committed_labels_belong_to_the_halves_they_claim(asset):
    halves = {split: {p["pair_id"] for p in hj.load_pairs(split)} for split in ("selection", "test")}
    assert "PRECOMPUTED" in asset["what"] and asset["labeler"] == hj.LABELER
    assert set(asset["configs"]) == set(asset["labels"]) == set(hj.CONFIGS)
    for name, by_split in asset["labels"].items():
        for split, labels in by_split.items():
            assert set(labels) <= halves[split], f"{name}/{split}: labels of pairs outside the {split} half"
            assert all(0 <= x["p_a"] <= 1 for x in labels.values())
        assert len(by_split["selection"]) == asset["selection"]["n_pairs"]
    chosen = asset["selection"]["chosen"]
    assert chosen in asset["configs"] and set(asset["labels"][chosen]["test"]) == halves["test"]
    best = max(r["alignment"] for r in asset["selection"]["rows"])
    assert next(r for r in asset["selection"]["rows"] if r["config"] == chosen)["alignment"] == best
    assert {e["pair_id"] for e in asset["exemplars"]} <= halves["selection"]
    for key in ("date", "machine", "seconds", "pairs_per_second"):
        assert asset[key]
