"""Evaluation posts are never training posts, whatever the source.

A single local file has no splits of its own: the kit splits it by post (data.split_of_post), so
"train", "validation" and "test" are disjoint by post id and by post text; a folder has a file per
split; the toy world has disjoint post generators. data.check_disjoint is the check stage_data runs.
"""
import json

import pytest

from rlaif_lib import data
from rlaif_lib import toy_world as tw
from rlaif_lib.toy_world.corruptions import sample_policy_pair


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def comparison_rows(posts, seed=0, per_post=2):
    """Several comparisons per post, as in the real data (a post is compared more than once)."""
    import random

    rng = random.Random(seed)
    rows = []
    for p in posts:
        for _ in range(per_post):
            a, b, _, _ = sample_policy_pair(p, rng)
            choice = rng.randrange(2)
            rows.append(tw.comparison_row(p, a, b, choice, [2, 8][choice], split="train"))
    return rows


def ids_and_texts(rows):
    return {data.post_id(r) for r in rows} - {None}, {data.post_text(r) for r in rows}


def assert_disjoint(train_rows, held_rows):
    train_ids, train_texts = ids_and_texts(train_rows)
    held_ids, held_texts = ids_and_texts(held_rows)
    assert held_texts and not train_texts & held_texts
    assert not train_ids & held_ids


def test_single_file_is_split_by_post_into_disjoint_splits(tmp_path):
    posts = tw.generate_posts(300, "label", seed=5)
    comparisons = write_jsonl(tmp_path / "comparisons.jsonl", comparison_rows(posts))
    sft = write_jsonl(tmp_path / "tldr.jsonl", tw.sft_rows(posts))  # the same posts, no ids (trl-lib/tldr)
    splits = {s: data.load_comparisons(comparisons, s).to_list() for s in ("train", "validation", "test")}
    assert sum(map(len, splits.values())) == 600  # every row in exactly one split
    assert_disjoint(splits["train"], splits["validation"] + splits["test"])
    assert_disjoint(splits["validation"], splits["test"])
    shares = {s: len(rows) / 600 for s, rows in splits.items()}
    assert abs(shares["train"] - data.SPLIT_FRACTIONS["train"]) < 0.08, shares
    assert min(shares["validation"], shares["test"]) > 0.04, shares
    sft_splits = {s: data.load_sft(sft, s).to_list() for s in ("train", "test")}
    # SFT rows are split by the same rule: an SFT training post is never a held-out comparison post
    assert_disjoint(sft_splits["train"], splits["validation"] + splits["test"] + sft_splits["test"])
    assert data.load_comparisons(comparisons, "train")[:] == data.load_comparisons(comparisons, "train")[:]
    assert len(data.load_comparisons(comparisons, split=None)) == 600  # split=None: the whole file
    data.check_disjoint({"sft": sft_splits["train"], "comparisons_train": splits["train"]},
                        {"eval": sft_splits["test"], "comparisons_test": splits["validation"]},
                        id_sets=("comparisons_train", "comparisons_test"))


def test_folder_splits_are_checked_for_overlap(tmp_path):
    posts = tw.generate_posts(40, "label", seed=6)
    folder = tmp_path / "cmp"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", comparison_rows(posts[:30]))
    write_jsonl(folder / "validation.jsonl", comparison_rows(posts[30:]))
    train, valid = (data.load_comparisons(str(folder), s).to_list() for s in ("train", "validation"))
    assert_disjoint(train, valid)
    data.check_disjoint({"train": train}, {"validation": valid}, id_sets=("train", "validation"))
    # A folder whose validation file repeats a training post: the check names the sets and the post.
    write_jsonl(folder / "validation.jsonl", comparison_rows(posts[29:]))
    leaky = data.load_comparisons(str(folder), "validation").to_list()
    with pytest.raises(data.SplitOverlapError, match=r"held-out set 'validation' row 0 \(post id label-00029\)"):
        data.check_disjoint({"train": train}, {"validation": leaky}, id_sets=("train", "validation"))
    # the same post id with a different text is caught by id
    renamed = [dict(r, info=dict(r["info"], post=r["info"]["post"] + " edited")) for r in leaky]
    with pytest.raises(data.SplitOverlapError, match="post id label-00029"):
        data.check_disjoint({"train": train}, {"validation": renamed}, id_sets=("train", "validation"))


def test_toy_sources_hold_out_their_evaluation_posts():
    sft_train, sft_test = data.load_sft("toy", "train", n=200), data.load_sft("toy", "test", n=50)
    from tests.conftest import toy_comparison_rows

    cmp_train, cmp_test = toy_comparison_rows("train", n=100), toy_comparison_rows("test", n=50)
    assert_disjoint(sft_train.to_list() + cmp_train, sft_test.to_list() + cmp_test)
    data.check_disjoint({"sft": sft_train, "comparisons_train": cmp_train},
                        {"eval": sft_test, "comparisons_test": cmp_test}, id_sets=("comparisons_train", "comparisons_test"))


def test_post_text_reads_every_row_shape():
    post = tw.generate_posts(1, "eval")[0]
    row = tw.comparison_row(post, "a", "b", 0, 2)
    texts = {data.post_text(row), data.post_text(data.comparisons_to_pairs([row])[0]),
             data.post_text(tw.sft_rows([post])[0]), data.post_text({"id": post.id, "prompt": tw.format_prompt(post)})}
    assert texts == {data.normalize_post(post.body)}
    assert data.post_id(row) == post.id and data.post_id(tw.sft_rows([post])[0]) is None


def test_stage_data_stops_when_a_held_out_post_is_a_training_post(tmp_path):
    """The old behaviour: one file as SFT data and as comparisons, its "test" split = the whole file.
    Now stage_data splits it by post and checks; a comparisons folder whose validation file repeats
    SFT training posts stops the run with a clear error, before anything is written."""
    from dataclasses import replace

    from rlaif_lib import pipeline
    from rlaif_lib.presets import get_preset

    posts = tw.generate_posts(60, "label", seed=7)
    sft = write_jsonl(tmp_path / "tldr.jsonl", tw.sft_rows(posts))
    single = write_jsonl(tmp_path / "comparisons.jsonl", comparison_rows(posts, per_post=1))
    preset = replace(get_preset("micro"), sft_data=sft, comparisons=single)
    pipeline.run(preset, tmp_path / "ok", stages=["data"])  # one file for each: split by post, disjoint
    done = json.loads((tmp_path / "ok" / "data" / "done.json").read_text())
    assert "share no post" in done["held_out"]
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    train_posts = [p for p in posts if data.split_of_post(p.body) == "train"]
    write_jsonl(leaky / "train.jsonl", comparison_rows(train_posts[:20]))
    write_jsonl(leaky / "validation.jsonl", comparison_rows(train_posts[20:30]))  # SFT training posts
    with pytest.raises(data.SplitOverlapError, match=r"held-out set 'comparisons_test' row 0 .* training set 'sft'"):
        pipeline.run(replace(preset, comparisons=str(leaky)), tmp_path / "leaky-run", stages=["data"])
    assert not (tmp_path / "leaky-run" / "data" / "done.json").exists()
