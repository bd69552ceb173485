"""The simulated labeler (a what-if): calibrated quality, label rows the pipeline accepts."""
import math

import pytest

from rlaif_lib import data, toy_world
from rlaif_lib.method import labeling as lab
from rlaif_lib.method.labeling import simulated as sim
from tests.conftest import toy_comparison_rows


@pytest.fixture(scope="module")
def toy_pairs():
    return data.comparisons_to_pairs(toy_comparison_rows("train", n=60))


@pytest.mark.parametrize("spec", [
    "simulated:alignment=0.55,same_position=0.18",
    "simulated:alignment=0.627,same_position=0.56,direction=second",
    "simulated:alignment=0.7,same_position=0.3",
    "simulated:alignment=0.78,same_position=0.18",
    "simulated:alignment=0.55,same_position=0.18,length_bias=1",
    "simulated:alignment=0.7,same_position=0.18,length_bias=1",
])
def test_measured_quality_within_two_points_of_requested(spec):
    # 4000 calibration pairs: the measured rates' standard errors are < 0.8 points, so 2 points is meaningful;
    # the human labels here are fresh draws, not the expectations the calibration solved for
    want = sim.parse(spec)
    got = sim.measure_on_calibration_set(spec, seed=1)
    assert got["n"] >= 4000
    assert abs(got["alignment"] - want.alignment) <= 0.02, got
    assert abs(got["same_position"] - want.same_position) <= 0.02, got


def test_direction_and_debias_switch():
    rows = [sim.label_row(sim.parse("simulated:alignment=0.7,same_position=0.5,direction=second"), i, m, "a", "b")
            for i, m in enumerate([-0.3, -0.05, 0.0, 0.05, 0.3] * 20)]
    assert {r["position"] for r in rows if r["same_position"]} == {"second"}
    for r in rows:
        assert r["p_a"] == pytest.approx((r["probs_ab"][0] + r["probs_ba"][1]) / 2)
    off = sim.parse("simulated:alignment=0.7,same_position=0.5,debias=off")
    for i, m in enumerate([-0.3, 0.0, 0.3]):
        r = sim.label_row(off, i, m, "a", "b")
        assert r["p_a"] == r["probs_ab"][0]  # one order only
    # without the average, position bias flips labels: measured alignment falls below the requested one
    assert sim.measure_on_calibration_set("simulated:alignment=0.78,same_position=0.56,debias=off")["alignment"] < 0.74


def _longer_share_of_errors(spec):
    """Of the calibration pairs where the labeler's choice goes against the gold margin (lengths differing),
    the share where it chose the longer summary."""
    labeler = sim.parse(spec)
    params, chose_longer = sim.parameters(labeler), []
    for i, ((_, a, b), m) in enumerate(zip(sim.calibration_pairs(), sim.calibration_margins())):
        p_a = sim.label_row(labeler, f"cal-{i}", float(m), a, b, params)["p_a"]
        if len(a.split()) != len(b.split()) and m != 0 and (p_a > 0.5) != (m > 0):
            chose_longer.append((p_a > 0.5) == (len(a.split()) > len(b.split())))
    return sum(chose_longer) / len(chose_longer)


def test_a_length_bias_makes_the_errors_systematic():
    # without a lean, a labeler's mistakes pick the longer summary about as often as the pairs' own mix does;
    # with one, most of its mistakes are the longer summary (what an RM trained on its labels will learn)
    plain, leaning = (_longer_share_of_errors(f"simulated:alignment=0.627,same_position=0.18{extra}")
                      for extra in ("", ",length_bias=1"))
    assert leaning > plain + 0.15 and leaning > 0.65, (plain, leaning)
    spec = "simulated:alignment=0.7,same_position=0.18,length_bias=1"
    assert sim.parse(spec).spec == spec and "longer summary" in sim.parse(spec).name


def test_alignments_a_lean_cannot_reach_are_refused():
    with pytest.raises(ValueError, match="below what its length lean alone"):
        sim.parameters(sim.parse("simulated:alignment=0.5,same_position=0.18,length_bias=1"))
    assert sim.parameters(sim.parse("simulated:alignment=0.5,same_position=0.18"))["sigma"] > 100  # the coin flip
    with pytest.raises(ValueError, match="gold rater has no length bias"):
        sim.parse("simulated:gold,length_bias=1")


def test_gold_rater_gives_the_humans_probability(toy_pairs):
    rows = sim.label_pairs_simulated(toy_pairs, "simulated:gold", seed=0)
    for pair, row in zip(toy_pairs[:10], rows):
        post = sim.toy_post_for(pair, 0)
        m = toy_world.gold_score(post, pair["summary_a"]) - toy_world.gold_score(post, pair["summary_b"])
        assert row["p_a"] == pytest.approx(1 / (1 + math.exp(-m / toy_world.TAU)))
        assert "simulated labeler" in row["labeler"]


def test_rows_have_the_llm_labelers_shape_and_cache(toy_pairs, tmp_path):
    spec = "simulated:alignment=0.7,same_position=0.2"
    rows = sim.label_pairs_simulated(toy_pairs, spec, seed=0, cache_path=tmp_path / "cache.jsonl")
    keys = {"id", "p_a", "probs_ab", "probs_ba", "other_mass", "same_position", "position", "truncated"}
    assert all(keys <= set(r) and r["labeler"].startswith("simulated labeler") for r in rows)
    assert [r["id"] for r in rows] == [p["id"] for p in toy_pairs]
    assert 0 <= lab.alignment(rows, toy_pairs)["value"] <= 1 and lab.position_bias(rows)["n"] == len(rows)
    again = sim.label_pairs_simulated(toy_pairs, spec, seed=0, cache_path=tmp_path / "cache.jsonl")
    assert again == rows and len((tmp_path / "cache.jsonl").read_text().splitlines()) == len(rows)


def test_reward_model_trains_on_simulated_labels(toy_pairs, tiny_lm, tmp_path):
    from rlaif_lib.method.reward import RewardStageConfig, load_reward_model, preference_accuracy, train_reward_model

    rows = sim.label_pairs_simulated(toy_pairs, "simulated:alignment=0.78,same_position=0.18", seed=0)
    path = train_reward_model(tiny_lm, toy_pairs, [r["p_a"] for r in rows], tmp_path / "rm",
                              RewardStageConfig(epochs=1, batch_size=8, max_length=512), progress=False)
    assert preference_accuracy(load_reward_model(path), toy_pairs)["n"] == len(toy_pairs)


def test_bad_specs_and_foreign_pairs_are_clear_errors(toy_pairs):
    with pytest.raises(ValueError, match="unknown field 'noise'"):
        sim.parse("simulated:alignment=0.7,noise=3")
    with pytest.raises(ValueError, match="bad value"):
        sim.parse("simulated:alignment=high")
    with pytest.raises(ValueError, match="fraction"):
        sim.parse("simulated:alignment=78")
    with pytest.raises(ValueError, match="above what the gold rater"):
        sim.parameters(sim.parse("simulated:alignment=0.95"))
    with pytest.raises(ValueError, match="toy-world pairs"):
        sim.label_pairs_simulated([dict(toy_pairs[0], id="reddit-123")], "simulated:gold")
    with pytest.raises(ValueError, match="not the toy world's post"):
        sim.label_pairs_simulated([dict(toy_pairs[0], post="another post")], "simulated:gold")
    assert sim.parse(sim.parse("simulated:alignment=0.627,same_position=0.56,direction=second,debias=off").spec) == \
        sim.SimulatedLabeler(0.627, 0.56, "second", False)


def test_a_negative_length_bias_leans_towards_the_shorter_summary():
    spec = "simulated:alignment=0.627,same_position=0.18,length_bias=-2.4"
    labeler = sim.parse(spec)
    assert labeler.spec == spec and "shorter summary (k=-2.4)" in labeler.name
    plain, leaning = (_longer_share_of_errors(f"simulated:alignment=0.627,same_position=0.18{extra}")
                      for extra in ("", ",length_bias=-2.4"))
    assert leaning < plain - 0.15 and leaning < 0.35, (plain, leaning)  # its mistakes are mostly the shorter one
    with pytest.raises(ValueError, match=r"length_bias must be in \[-10, 10\]"):
        sim.parse("simulated:alignment=0.7,length_bias=-11")


def _pair(i, a_words, b_words):
    return {"id": f"p{i}", "summary_a": " ".join(["w"] * a_words), "summary_b": " ".join(["w"] * b_words)}


def test_longer_share_counts_picks_of_the_summary_with_more_words():
    pairs = [_pair(0, 10, 5), _pair(1, 10, 5), _pair(2, 5, 10), _pair(3, 7, 7), _pair(4, 3, 9)]
    labels = [{"id": "p0", "p_a": 0.9}, {"id": "p1", "p_a": 0.2}, {"id": "p2", "p_a": 0.3},
              {"id": "p3", "p_a": 0.9}, {"id": "p4", "p_a": 0.5}, {"id": "other", "p_a": 1.0}]
    # p0 picks the longer, p1 the shorter, p2 the longer (B), p3 has equal lengths, p4 is a tie (half)
    assert sim.longer_share(labels, pairs) == {"value": (1 + 0 + 1 + 0.5) / 4, "n": 4}
    with pytest.raises(ValueError, match="no labelled pair"):
        sim.longer_share(labels[3:4], pairs)


def test_length_bias_like_inverts_the_share_of_a_lean_alone():
    pairs = [_pair(i, 10 + i % 7, 10 + (i * 3) % 11) for i in range(60)]
    leans = [abs(sim.length_lean(p["summary_a"], p["summary_b"])) for p in pairs]
    leans = [x for x in leans if x > 0]
    for share in (0.26, 0.4, 0.5, 0.7):
        k = sim.length_bias_like(share, pairs)
        got = sum(1 / (1 + math.exp(-k * x)) for x in leans) / len(leans)
        assert got == pytest.approx(share, abs=0.01), (share, k)
    assert sim.length_bias_like(0.26, pairs) < 0 < sim.length_bias_like(0.7, pairs)
    assert sim.length_bias_like(0.5, pairs) == 0 and sim.length_bias_like(0.0, pairs) == -10
