"""What a labeler's soft label tracks: features, the content/position split, the logistic model."""
import math

import numpy as np
import pytest

from rlaif_lib import data, toy_world
from rlaif_lib.experiments import analysis
from rlaif_lib.method.labeling import simulated as sim
from rlaif_lib.stats import fit_logistic
from tests.conftest import toy_comparison_rows


@pytest.fixture(scope="module")
def toy():
    pairs = data.comparisons_to_pairs(toy_comparison_rows("train", n=150))
    posts = {p.id: p for p in toy_world.generate_posts(150, "label", seed=0)}
    return pairs, posts


def test_features_are_a_minus_b(toy):
    pairs, posts = toy
    f = analysis.pair_features(pairs[:20], posts)
    for i, pair in enumerate(pairs[:20]):
        post = posts[pair["id"]]
        gold = toy_world.gold_score(post, pair["summary_a"]) - toy_world.gold_score(post, pair["summary_b"])
        assert f["gold"][i] == pytest.approx(gold)
        assert f["length"][i] == len(pair["summary_a"].split()) - len(pair["summary_b"].split())
    post = posts[pairs[0]["id"]]
    copied = post.body.split(". ")[0] + "."
    assert analysis.summary_features(post, copied)["copying"] == 1.0
    assert analysis.summary_features(post, "zebra quantum violin banana")["overlap"] == 0.0
    with pytest.raises(KeyError, match="no toy-world post"):
        analysis.pair_features([dict(pairs[0], id="nope")], posts)


def test_content_and_position_logits_are_recovered():
    content, position = np.array([1.0, -0.5, 0.2]), np.array([2.0, 0.0, -1.0])
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    rows = [{"probs_ab": [sig(c + b), 1 - sig(c + b)], "probs_ba": [sig(-c + b), 1 - sig(-c + b)], "p_a": 0.5}
            for c, b in zip(content, position)]
    got = analysis.label_logits(rows)
    assert got["content"] == pytest.approx(content, abs=1e-6) and got["position"] == pytest.approx(position, abs=1e-6)


def test_logistic_fit_recovers_known_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 + 2 * x[:, 0] - x[:, 1])))).astype(float)
    w = fit_logistic(x, y, ridge=0.0)
    assert w == pytest.approx([0.5, 2.0, -1.0], abs=0.15)


def test_a_gold_following_labeler_is_seen_following_gold(toy):
    pairs, posts = toy
    labels = sim.label_pairs_simulated(pairs, "simulated:alignment=0.75,same_position=0.3", seed=0)
    res = analysis.what_the_labeler_tracks(labels, pairs, posts)
    assert res["correlations"]["labeler content logit"]["gold"] > 0.6
    assert res["correlations"]["human choice (A)"]["gold"] > 0.5
    assert res["models"]["labeler"]["coefficients"]["wrong_other"]["value"] < 0  # a wrong fact makes it worse
    # a "labeler" that only likes longer summaries is seen doing that, not following gold
    longer = [dict(x, probs_ab=[0.9, 0.1], probs_ba=[0.1, 0.9]) if len(p["summary_a"]) > len(p["summary_b"])
              else dict(x, probs_ab=[0.1, 0.9], probs_ba=[0.9, 0.1]) for x, p in zip(labels, pairs)]
    res = analysis.what_the_labeler_tracks(longer, pairs, posts)
    assert res["correlations"]["labeler content logit"]["length"] > 0.7
    coefs = res["models"]["labeler"]["coefficients"]
    assert max(coefs, key=lambda k: abs(coefs[k]["value"])) == "length"
    fig = analysis.plot_what_the_labeler_tracks(res)
    assert len(fig.axes) == 2


def test_summary_profile_and_markdown(toy):
    pairs, posts = toy
    post_list = [posts[p["id"]] for p in pairs[:30]]
    refs = analysis.summary_profile(post_list, [p.reference for p in post_list])
    junk = analysis.summary_profile(post_list, ["banana zebra"] * 30)
    assert refs["n"] == 30 and refs["gold"] > 0.9 and refs["wrong_facts"] == 0 and junk["gold"] == 0
    assert junk["length"] == 2 and refs["length"] > junk["length"]
    labels = sim.label_pairs_simulated(pairs, "simulated:gold", seed=0)
    text = analysis.analysis_markdown({"tracks": analysis.what_the_labeler_tracks(labels, pairs, posts),
                                       "profiles": {"reference": refs, "junk": junk}})
    assert "| wrong_facts |" in text and "| junk |" in text and "fit accuracy" in text


def test_the_largest_loss_is_the_post_where_a_policy_trades_worst(toy):
    """Against the reference summaries, a policy that writes the reference everywhere but loops on one post
    loses most on that post, and the record names it, with both summaries and their gold scores."""
    _, posts = toy
    post_list = list(posts.values())[:20]
    refs = [p.reference for p in post_list]
    loop = (refs[7].split(".")[0] + ". ") * 6  # one sentence said again and again
    mine = refs[:7] + [loop] + refs[8:]
    worst = analysis.largest_loss(post_list, mine, refs)
    assert worst["id"] == post_list[7].id and worst["summary"] == loop.strip() and worst["baseline"] == refs[7]
    assert worst["gold"] == toy_world.gold_score(post_list[7], loop)
    assert worst["baseline_gold"] == toy_world.gold_score(post_list[7], refs[7]) > worst["gold"]
    assert analysis.largest_loss([], [], []) is None


def test_distinctive_bigrams_find_a_planted_preference(toy):
    pairs, posts = toy
    # a labeler that prefers whichever summary says " of " (e.g. "my boyfriend of 2 years") when only one does
    def has(s):
        return " of " in s
    rows = [{"id": p["id"], "p_a": 0.5, "probs_ab": [0.8, 0.2] if has(p["summary_a"]) and not has(p["summary_b"]) else
             [0.2, 0.8] if has(p["summary_b"]) and not has(p["summary_a"]) else [0.5, 0.5],
             "probs_ba": [0.2, 0.8] if has(p["summary_a"]) and not has(p["summary_b"]) else
             [0.8, 0.2] if has(p["summary_b"]) and not has(p["summary_a"]) else [0.5, 0.5]} for p in pairs]
    out = analysis.distinctive_bigrams(rows, pairs, min_count=5)
    assert out["likes"] and all(r["content"] > 0 for r in out["likes"][:3])
    assert any(" of" in r["bigram"] or "of " in r["bigram"] for r in out["likes"][:3])


def test_report_section_is_cached_until_a_stage_changes(toy, tmp_path, monkeypatch):
    from rlaif_lib.run_folder import RunFolder, write_json

    pairs, posts = toy
    labels = sim.label_pairs_simulated(pairs, "simulated:alignment=0.7,same_position=0.3", seed=0)
    result = {"labeler": "x", "tracks": analysis.what_the_labeler_tracks(labels, pairs, posts)}
    calls = []
    monkeypatch.setattr(analysis, "run_analysis", lambda run, preset: calls.append(1) or result)
    run = RunFolder(tmp_path / "run")
    assert analysis.report_section(run) == []  # nothing labelled yet
    run.stage("label").mkdir(parents=True)
    write_json(run.preset, {"name": "micro", "comparisons": "toy", "seed": 0})
    write_json(run.done("label"), {"seconds": 1})
    text = "\n".join(analysis.report_section(run))
    assert "What the AI labeler's labels track" in text and (run.figures / "labeler_tracks.png").exists()
    assert "\n".join(analysis.report_section(run)) == text and len(calls) == 1  # cached
    write_json(run.done("label"), {"seconds": 2})  # the label stage was rerun
    analysis.report_section(run)
    assert len(calls) == 2
