"""Loaders: toy sources, local files in the real schemas, schema errors. Nothing here touches the network."""
import copy
import json
import re

import datasets
import pytest

from rlaif_lib import data
from rlaif_lib import toy_world as tw

POST = ("My (25F) roommate keeps leaving dishes in the sink for days.\n\nI've asked nicely twice and she says she "
        "forgets. Rent is split evenly. What else can I do without making things awkward?")


def sft_row(i):
    prompt = f"SUBREDDIT: r/roommates\n\nTITLE: Dishes, part {i}\n\nPOST: {POST}\n\nTL;DR:"
    return {"prompt": prompt, "completion": f" roommate leaves dishes for days, asked twice ({i}), what now?"}


def comparison_row(i, confidence="auto", subreddit="roommates"):
    """A row shaped like openai/summarize_from_feedback 'comparisons' (leading spaces, nullable fields);
    confidence on the 9-point scale, by default 2 or 8 (strength 3) for the row's choice i % 2."""
    if confidence == "auto":
        confidence = 8 if i % 2 else 2
    return {
        "info": {"id": f"t3_{i:05x}", "post": POST, "title": "Dishes", "subreddit": subreddit, "site": None,
                 "article": None},
        "summaries": [{"text": f" Roommate leaves dishes ({i}).", "policy": "sup2", "note": None},
                      {"text": " Roommate never washes dishes; what do?", "policy": "ref", "note": None}],
        "choice": i % 2, "worker": "w1", "batch": "batch3", "split": "train", "extra": {"confidence": confidence},
    }


def news_row():
    """A CNN/DM row of the real data: no Reddit post, an article instead. Loaders drop these."""
    row = comparison_row(99)
    row["info"].update(post=None, title=None, subreddit=None, site="dailymail", article="Officials said on Monday ...")
    return row


def write(rows, path):
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        datasets.Dataset.from_list(rows).to_parquet(str(path))
    return str(path)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_load_sft_from_local_files(tmp_path, suffix):
    rows = [dict(sft_row(i), id=f"x{i}") for i in range(20)]  # an extra column is dropped
    ds = data.load_sft(write(rows, tmp_path / f"tldr{suffix}"))
    assert ds.column_names == ["prompt", "completion"] and len(ds) == 20
    assert ds[3] == sft_row(3)
    small = data.load_sft(str(tmp_path / f"tldr{suffix}"), n=5, seed=1)
    assert len(small) == 5 and small[:] == data.load_sft(str(tmp_path / f"tldr{suffix}"), n=5, seed=1)[:]


def test_load_sft_from_folders_and_csv(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    write([sft_row(i) for i in range(6)], folder / "train.jsonl")
    write([sft_row(i) for i in range(100, 103)], folder / "validation.jsonl")
    assert len(data.load_sft(str(folder), "train")) == 6
    assert data.load_sft(str(folder), "validation")[0] == sft_row(100)
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list([sft_row(i) for i in range(4)])}).save_to_disk(str(saved))
    assert len(data.load_sft(str(saved), "train")) == 4
    datasets.Dataset.from_list([sft_row(i) for i in range(3)]).to_csv(str(tmp_path / "tldr.csv"), index=False)
    assert data.load_sft(str(tmp_path / "tldr.csv"))[2] == sft_row(2)


def test_load_sft_toy():
    train = data.load_sft("toy", "train", n=20)
    assert train.column_names == ["prompt", "completion"] and len(train) == 20
    posts = tw.generate_posts(20, "sft")
    # the completions are the authors' own TL;DRs (of mixed quality), as in the real dataset
    assert train[0] == {"prompt": tw.format_prompt(posts[0]), "completion": " " + tw.author_tldr(posts[0])}
    assert sum(row["completion"] != " " + p.reference for row, p in zip(train, posts)) >= 10
    validation = data.load_sft("toy", "validation", n=20)
    assert validation[0]["prompt"] == tw.format_prompt(tw.generate_posts(1, "eval")[0])
    assert not set(train["prompt"]) & set(validation["prompt"])
    with pytest.raises(ValueError):
        data.load_sft("toy", "dev")


@pytest.mark.parametrize("row, field", [
    ({"prompt": "SUBREDDIT: r/x\n\nTITLE: t\n\nPOST: p\n\nTL;DR:", "completion": "   "}, "completion"),
    ({"prompt": "", "completion": " fine"}, "prompt"),
    ({"prompt": None, "completion": " fine"}, "prompt"),
])
def test_bad_sft_rows_name_row_and_field(tmp_path, row, field):
    rows = [sft_row(i) for i in range(5)] + [row] + [sft_row(9)]
    with pytest.raises(data.SchemaError, match=rf"sft row 5: field '{field}'"):
        data.load_sft(write(rows, tmp_path / "bad.jsonl"))
    with pytest.raises(data.SchemaError, match="sft row 0: field 'completion' is missing"):
        data.check_sft_rows([{"prompt": "p"}])


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_load_comparisons_from_local_files(tmp_path, suffix):
    rows = [comparison_row(i, confidence=[2, 8, 3, None][i % 4], subreddit=None if i == 5 else "roommates")
            for i in range(12)]
    ds = data.load_comparisons(write(rows[:6] + [news_row()] + rows[6:], tmp_path / f"cmp{suffix}"))
    assert len(ds) == 12  # the news row is dropped
    pairs = data.comparisons_to_pairs(ds)
    p = pairs[5]
    assert p["id"] == "t3_00005" and p["post"] == POST and p["title"] == "Dishes" and p["subreddit"] is None
    assert p["prompt"] == f"SUBREDDIT: r/\n\nTITLE: Dishes\n\nPOST: {POST}\n\nTL;DR:"
    assert p["summary_a"] == "Roommate leaves dishes (5)." and p["summary_b"].startswith("Roommate never")
    assert (p["policy_a"], p["policy_b"]) == ("sup2", "ref")
    assert [q["choice"] for q in pairs] == [i % 2 for i in range(12)]
    assert [q["confidence"] for q in pairs[:4]] == [2, 8, 3, None]
    assert len(data.load_comparisons(str(tmp_path / f"cmp{suffix}"), n=4, seed=0)) == 4


def test_high_confidence_means_strength_3_for_either_summary():
    """OpenAI's confidence is a 9-point scale: 1-4 prefer summary 0, 6-9 summary 1; strength = |c - 5|.
    High confidence = strength >= 3 for EITHER summary (the old rule, confidence >= 8, kept only wins of summary 1)."""
    confidences = [1, 9, 2, 8, 3, 7, 4, 6, None, None]  # choices alternate 0, 1, ...: all consistent
    pairs = data.comparisons_to_pairs([comparison_row(i, confidence=c) for i, c in enumerate(confidences)])
    from rlaif_lib.method.labeling import alignment

    always_a = [{"id": p["id"], "p_a": 0.9} for p in pairs]
    high = alignment(always_a, pairs, min_strength=data.HIGH_CONFIDENCE_STRENGTH)
    assert high["n"] == 4 and high["value"] == 0.5  # confidences 1, 9, 2, 8: both positions, not only summary 1
    assert alignment(always_a, pairs, min_strength=2)["n"] == 6
    assert [data.preference_strength(c) for c in (1, 4, 6, 9, None)] == [4, 1, 1, 4, None]
    assert "1-4" in data.CONFIDENCE_SCALE_NOTE and "|confidence - 5|" in data.CONFIDENCE_SCALE_NOTE


def _broken(change):
    row = copy.deepcopy(comparison_row(12))
    change(row)
    return row


@pytest.mark.parametrize("change, field", [
    (lambda r: r["summaries"][1].update(text=""), "summaries[1].text"),
    (lambda r: r["summaries"][0].update(text="   "), "summaries[0].text"),
    (lambda r: r["summaries"][0].update(policy=None), "summaries[0].policy"),
    (lambda r: r.update(choice=2), "choice"),
    (lambda r: r.update(choice=None), "choice"),
    (lambda r: r.update(summaries=r["summaries"][:1]), "summaries"),
    (lambda r: r["info"].update(post=None), "info.post"),
    (lambda r: r["info"].update(post=""), "info.post"),
    (lambda r: r.update(extra={"confidence": 10}), "extra.confidence"),
    (lambda r: r.update(extra={"confidence": 5}), "extra.confidence"),  # 5 is not on the scale
    (lambda r: r.update(extra={"confidence": 8}), "extra.confidence"),  # choice 0 with "definitely summary 1"
    (lambda r: r.update(choice=1, extra={"confidence": 3}), "extra.confidence"),
])
def test_bad_comparison_rows_name_row_and_field(tmp_path, change, field):
    rows = [comparison_row(i) for i in range(12)] + [_broken(change)] + [comparison_row(13)]
    with pytest.raises(data.SchemaError, match=re.escape(f"comparisons row 12: field '{field}'")):
        data.load_comparisons(write(rows, tmp_path / "bad.jsonl"))


def test_missing_fields_in_plain_rows():
    row = comparison_row(0)
    del row["choice"]
    with pytest.raises(data.SchemaError, match="comparisons row 0: field 'choice'"):
        data.check_comparison_rows([row])
    with pytest.raises(data.SchemaError, match="comparisons row 1: field 'info' is missing"):
        data.check_comparison_rows([comparison_row(0), {"summaries": []}])


def test_toy_comparisons_load_like_openais(tmp_path):
    """Toy-world comparison rows (policy-like pairs, simulated raters) are in OpenAI's schema: a file of
    them loads through load_comparisons, and the raters mostly prefer the summary with the higher gold score."""
    from tests.conftest import toy_comparison_rows

    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in toy_comparison_rows("train", n=60)))
    train = data.load_comparisons(str(path))
    assert len(train) == 60 and train.column_names == list(data.COMPARISON_FIELDS)
    pairs = data.comparisons_to_pairs(train)
    posts = {p.id: p for p in tw.generate_posts(60, "label")}
    for pair in pairs:
        post = posts[pair["id"]]
        assert pair["prompt"] == tw.format_prompt(post) and pair["summary_a"] != pair["summary_b"]
        assert pair["choice"] in (0, 1) and pair["confidence"] in range(1, 10)
        assert pair["policy_a"].startswith("toy-") and pair["summary_a"] == pair["summary_a"].strip()
    better = [tw.gold_score(posts[p["id"]], p["summary_a"]) >= tw.gold_score(posts[p["id"]], p["summary_b"])
              for p in pairs]
    assert sum(b == (p["choice"] == 0) for b, p in zip(better, pairs)) >= 0.6 * len(pairs)  # raters mostly right


def test_hub_id_requests_the_comparisons_config(monkeypatch):
    calls = []

    def fake_load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        return datasets.Dataset.from_list([comparison_row(i) for i in range(3)] + [news_row()])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    ds = data.load_comparisons("openai/summarize_from_feedback", "validation")
    assert calls == [(("openai/summarize_from_feedback", "comparisons"), {"split": "validation"})]
    assert len(ds) == 3


def test_the_real_data_ships_with_the_kit_and_loads_by_name():
    """OpenAI's batch 13 (1,097 human comparisons of 905 posts) and 500 real TL;DR posts load offline by
    name; the comparisons split by post into a selection half and a test half that share no post."""
    selection, test = (data.comparisons_to_pairs(data.load_comparisons("openai-batch13", split=s))
                       for s in ("selection", "test"))
    assert len(selection) + len(test) == len(data.load_comparisons("openai-batch13")) == 1097
    assert not {p["post"] for p in selection} & {p["post"] for p in test} and min(len(selection), len(test)) > 450
    assert {p["policy_a"] for p in selection + test} | {p["policy_b"] for p in selection + test} == {
        "sup4_12b_t0.7", "sup4_ppo_rm4_t.7"}
    assert len(data.load_comparisons("openai-batch13", split="train")) == len(selection)  # the pipeline's names
    with pytest.raises(ValueError, match="selection"):
        data.load_comparisons("openai-batch13", split="dev")
    posts = data.load_sft("tldr-500")
    assert len(posts) == 500 and posts[0]["prompt"].startswith("SUBREDDIT: r/") and posts[0]["completion"].startswith(" ")
    splits = {s: data.load_sft("tldr-500", split=s) for s in ("train", "validation", "test")}
    assert sum(map(len, splits.values())) == 500
    assert not {r["prompt"] for r in splits["train"]} & {r["prompt"] for r in splits["test"]}
    assert (data.REAL / "SOURCES.md").exists() and (data.REAL / "LICENSE-openai-summarize-from-feedback.txt").exists()
