"""The paper's labeler tables, run with a tiny random causal LM as the labeler (mechanics, not quality)."""
import random

import pytest

from rlaif_lib import paper
from rlaif_lib.experiments import precomputed
from rlaif_lib.method import labeling as lab
from rlaif_lib.method.labeling import tables

from .conftest import random_text


def pairs(n, seed, prefix):
    rng = random.Random(seed)
    return [{"id": f"{prefix}-{i}", "post": random_text(rng, 25), "title": "t", "subreddit": f"s{i % 3}",
             "summary_a": random_text(rng, 6), "summary_b": random_text(rng, 7), "choice": i % 2,
             "confidence": 1 + i % 9} for i in range(n)]


@pytest.fixture(scope="module")
def labeler(tiny_lm):
    from rlaif_lib.models import load_causal_lm

    return load_causal_lm(tiny_lm)


def test_techniques_table_rows_and_paper_numbers(labeler, tmp_path):
    test, train = pairs(6, 0, "test"), pairs(10, 1, "train")
    config = lab.LabelConfig(chat_template=False, cot_max_tokens=4, batch_size=4)
    settings = (("base", 0, False), ("base", 1, False), ("base", 0, True))  # Detailed is too long for this toy LM
    rows = tables.techniques_table(test, train, labeler, settings, config, cache_path=tmp_path / "cache.jsonl")
    assert [(r["preamble"], r["shots"], r["cot"]) for r in rows] == list(settings)
    assert [r["paper"] for r in rows] == [paper.TECHNIQUES[("base", 0, False)], None, paper.TECHNIQUES[("base", 0, True)]]
    assert rows[0]["paper"] == 76.1  # Table 2 of the paper, Base 0-shot
    for r in rows:
        assert r["n"] == 6 and r["ci_low"] <= r["alignment"] <= r["ci_high"] and 0 <= r["same_position_pct"] <= 100
    # the cache now holds every (pair, setting): a second call labels nothing new
    before = (tmp_path / "cache.jsonl").read_text()
    tables.techniques_table(test, train, labeler, (("base", 0, False),), config, cache_path=tmp_path / "cache.jsonl")
    assert (tmp_path / "cache.jsonl").read_text() == before


def test_exemplars_never_come_from_the_scored_pairs(labeler):
    test = pairs(4, 0, "test")
    with pytest.raises(ValueError, match="exemplar"):
        tables.techniques_table(test, test, labeler, (("base", 1, False),), lab.LabelConfig(chat_template=False))


def test_self_consistency_and_size_tables(labeler, tmp_path):
    test = pairs(4, 2, "test")
    config = lab.LabelConfig(preamble="base", chat_template=False, cot_max_tokens=3, batch_size=4)
    sc = tables.self_consistency_table(test, labeler, settings=((1, 0.0), (2, 0.7)), base=config)
    assert [(r["samples"], r["temperature"]) for r in sc] == [(1, 0.0), (2, 0.7)]
    assert sc[0]["paper_16_samples"] == 78.0 and sc[1]["paper_16_samples"] == 74.0
    size = tables.labeler_size_table(test, {"tiny random LM": labeler}, config)
    assert [r["labeler"] for r in size][0] == "tiny random LM" and len(size) == 4
    md = tables.markdown(size)
    assert md.count("\n") == len(size) + 1 and "| labeler |" in md


def test_tables_take_the_stage_exemplars_when_the_prompt_has_shots(labeler):
    """The `tiny` preset labels 1-shot: its Table 14 and Table 3 rows use the same prompt, exemplar included."""
    test, train = pairs(4, 3, "test"), pairs(6, 4, "train")
    one_shot = lab.LabelConfig(preamble="base", shots=1, chat_template=False, cot_max_tokens=3, batch_size=4)
    exemplars = lab.select_exemplars(train, 1, seed=0)
    with pytest.raises(ValueError, match="exemplars"):
        tables.labeler_size_table(test, {"tiny random LM": labeler}, one_shot)
    sc = tables.self_consistency_table(test, labeler, settings=((1, 0.0),), base=one_shot, exemplars=exemplars)
    size = tables.labeler_size_table(test, {"tiny random LM": labeler}, one_shot, exemplars=exemplars)
    assert sc[0]["n"] == 4 and size[0]["n"] == 4


def test_committed_tables_of_tiny_are_of_tiny_pairs_and_settings():
    """tiny leaves Tables 2 and 14 out of its label stage; notebook 02 shows the committed measurement. It must be of
    the pairs a tiny run labels today (same sample-stage fingerprint) and of the settings `--tables` would measure."""
    from dataclasses import asdict

    from rlaif_lib.presets import Preset, get_preset, with_seed

    tiny = get_preset("tiny")
    assert tiny.techniques == () and tiny.self_consistency == ()
    committed = precomputed.committed_tables(tiny)
    assert committed is not None, "assets/label_tables_tiny.json is of other pairs: remeasure it with --tables"
    assert [(r["preamble"], r["shots"], r["cot"]) for r in committed["techniques"]] == list(Preset().techniques)
    assert [(r["samples"], r["temperature"]) for r in committed["self_consistency"]] == list(Preset().self_consistency)
    assert all(r["n"] == committed["pairs"]["techniques"] == Preset().n_technique_pairs for r in committed["techniques"])
    assert all(0 <= r["ci_low"] <= r["alignment"] <= r["ci_high"] <= 1 for r in committed["techniques"])
    assert precomputed.committed_tables(asdict(with_seed(tiny))) == committed  # a run's preset.json says the same
    assert precomputed.committed_tables(get_preset("tiny", n_label_posts=301)) is None  # other pairs
    assert precomputed.committed_tables(get_preset("micro")) is None  # no committed file


def test_cli_tables_flag_puts_tables_2_and_14_back(tmp_path):
    from rlaif_lib.cli import main
    from rlaif_lib.presets import Preset
    from rlaif_lib.run_folder import read_json

    main(["run", "--preset", "tiny", "--stages", "data", "--out", str(tmp_path / "run"), "--tables"])
    preset = read_json(tmp_path / "run" / "preset.json")
    assert [tuple(t) for t in preset["techniques"]] == list(Preset().techniques)
    assert [tuple(s) for s in preset["self_consistency"]] == list(Preset().self_consistency)
