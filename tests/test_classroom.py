"""The class as the raters: answers on disk, merging, the agreement table, a reward model on the class's labels."""
import json
import random

import pytest

from rlaif_lib import classroom, data
from rlaif_lib.classroom import (
    AnswerError,
    check_answer,
    class_labels,
    compare_with,
    load_answers,
    make_answer,
    merge_class_files,
    save_answer,
    simulated_class,
    unique_answers,
)
from rlaif_lib.data import preference_strength

PAIRS = [{"id": f"p{i}", "post": f"post {i}", "title": f"title {i}", "subreddit": "relationships",
          "prompt": f"SUBREDDIT: r/relationships\n\nTITLE: title {i}\n\nPOST: post {i}\n\nTL;DR:",
          "summary_a": f"summary a{i}", "summary_b": f"summary b{i}", "policy_a": "sft@T=1", "policy_b": "sft@T=1",
          "choice": i % 2, "confidence": 2 if i % 2 == 0 else 8} for i in range(4)]


BY_NAME = {p["id"]: p for p in PAIRS}


def answer(student, pair, choice, confidence=None, shown_first="a"):
    """An answer about `pair` (a pair, or the post id of one of PAIRS), named as the widget names it."""
    pair = BY_NAME[pair] if isinstance(pair, str) else pair
    return {"student": student, "pair_id": data.pair_id(pair), "texts": classroom.pair_texts_hash(pair),
            "shown_first": shown_first, "choice": choice, "confidence": confidence or (3 if choice == 0 else 7),
            "time": "t"}


def post_ids(answers):
    return [a["pair_id"].split("#")[0] for a in answers]


@pytest.mark.parametrize("shown_first,picked,choice", [("a", 0, 0), ("a", 1, 1), ("b", 0, 1), ("b", 1, 0)])
def test_a_click_is_stored_in_the_schemas_terms(shown_first, picked, choice):
    record = make_answer("ana", PAIRS[0], shown_first, picked, 4)
    assert record["pair_id"] == data.pair_id(PAIRS[0]) and record["texts"] == classroom.pair_texts_hash(PAIRS[0])
    assert record["choice"] == choice
    assert record["confidence"] == (1 if choice == 0 else 9)  # strength 4 = "definitely"
    assert preference_strength(record["confidence"]) == 4


def test_nine_point_scale():
    assert [classroom.confidence_from(0, s) for s in (1, 2, 3, 4)] == [4, 3, 2, 1]
    assert [classroom.confidence_from(1, s) for s in (1, 2, 3, 4)] == [6, 7, 8, 9]
    with pytest.raises(ValueError):
        classroom.confidence_from(0, 5)


@pytest.mark.parametrize("change,field", [({"confidence": 5}, "confidence"), ({"confidence": 8}, "confidence"),
                                          ({"choice": 2}, "choice"), ({"shown_first": "left"}, "shown_first"),
                                          ({"student": ""}, "student")])
def test_a_bad_answer_names_its_field(change, field):
    with pytest.raises(AnswerError, match=f"here: field '{field}'"):
        check_answer({**answer("ana", "p0", 0), **change}, where="here")
    for name in ("pair_id", "texts"):  # an answer names its pair and the texts it was given on
        missing = answer("ana", "p0", 0)
        del missing[name]
        with pytest.raises(AnswerError, match=f"field '{name}' is missing"):
            check_answer(missing)


def test_saved_answers_survive_a_restart(tmp_path):
    path = tmp_path / "class" / "answers.jsonl"
    assert load_answers(path) == []
    save_answer(path, answer("ana", "p0", 0))
    save_answer(path, answer("ana", "p1", 1))
    # a "new kernel": nothing in memory, only the file
    assert [(a["pair_id"], a["choice"]) for a in load_answers(path)] == [(data.pair_id(PAIRS[0]), 0),
                                                                        (data.pair_id(PAIRS[1]), 1)]
    with pytest.raises(AnswerError):
        save_answer(path, answer("ana", "p2", 0, confidence=9))  # contradiction: never written
    assert len(load_answers(path)) == 2


def test_a_torn_last_line_is_skipped_but_a_bad_line_is_an_error(tmp_path):
    path = tmp_path / "a.jsonl"
    save_answer(path, answer("ana", "p0", 0))
    with open(path, "a") as f:
        f.write('{"student": "ana", "pair_')  # the kernel died mid-write
    with pytest.warns(UserWarning, match="a.jsonl:2"):
        assert len(load_answers(path)) == 1
    path.write_text(json.dumps(answer("ana", "p0", 0)) + "\nnot json\n")
    with pytest.raises(AnswerError, match=r"a.jsonl:2: not valid JSON"):
        load_answers(path)


def test_merge_dedupes_by_student_and_pair(tmp_path):
    one, two = tmp_path / "ana.jsonl", tmp_path / "bo.jsonl"
    save_answer(one, answer("ana", "p0", 0))
    save_answer(one, answer("ana", "p0", 1))  # ana changed her mind: the latest wins
    save_answer(one, answer("ana", "p1", 1))
    save_answer(two, answer("bo", "p0", 0))
    save_answer(two, answer("ana", "p1", 1))  # the same answer submitted twice
    out = tmp_path / "merged" / "class.jsonl"
    counts = merge_class_files([one, two], out, PAIRS)
    assert counts == {"files": 2, "rows": 5, "answers": 3, "duplicates": 2, "refused": 0, "students": 2, "pairs": 2,
                      "refusals": []}
    merged = {(a["student"], a["pair_id"].split("#")[0]): a["choice"] for a in load_answers(out)}
    assert merged == {("ana", "p0"): 1, ("ana", "p1"): 1, ("bo", "p0"): 0}


def test_merge_refuses_a_bad_row_naming_file_and_line_and_keeps_the_rest(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    save_answer(good, answer("ana", "p0", 0))
    bad.write_text(json.dumps(answer("bo", "p0", 0)) + "\n" + json.dumps(answer("bo", "p1", 1, confidence=2)) + "\n"
                   + "not json\n")
    out = tmp_path / "out.jsonl"
    counts = merge_class_files([good, bad], out, PAIRS)
    assert counts["answers"] == 2 and counts["refused"] == 2
    assert counts["refusals"][0].endswith("bad.jsonl:2: field 'confidence' 2 contradicts choice 1 (1-4 go with choice 0, "
                                          "6-9 with choice 1)")
    assert "bad.jsonl:3: not valid JSON" in counts["refusals"][1]
    assert sorted(a["student"] for a in load_answers(out)) == ["ana", "bo"]
    with pytest.raises(AnswerError, match="no such file"):
        merge_class_files([tmp_path / "missing.jsonl"], out, PAIRS)
    bad.write_text("{}\n")
    with pytest.raises(AnswerError, match="no answer to merge"):  # nothing usable: nothing is written
        merge_class_files([bad], tmp_path / "none.jsonl", PAIRS)
    assert not (tmp_path / "none.jsonl").exists()


@pytest.mark.parametrize("edit", ["summary", "post"])
def test_merge_refuses_a_tampered_answer_naming_file_line_and_pair(tmp_path, edit):
    """An answer given on edited texts (a summary changed: another pair id; the post changed: another texts hash)
    is refused, naming the student's file, the line and the pair; every other answer is merged."""
    pairs = classroom.class_pairs("toy")
    ana, bo = tmp_path / "answers-ana.jsonl", tmp_path / "answers-bo.jsonl"
    for p in pairs[:3]:
        save_answer(ana, make_answer("ana", p, "a", 0, 2), pair=p)
    edited = dict(pairs[1], **({"summary_b": pairs[1]["summary_b"] + " (and more)"} if edit == "summary"
                               else {"post": pairs[1]["post"] + " EDIT"}))
    save_answer(bo, make_answer("bo", pairs[0], "b", 1, 3))
    save_answer(bo, make_answer("bo", edited, "a", 1, 4))  # line 2: an answer on a tampered pair
    save_answer(bo, make_answer("bo", pairs[2], "a", 0, 1))
    counts = merge_class_files([ana, bo], tmp_path / "class.jsonl", pairs)
    assert counts["answers"] == 5 and counts["refused"] == 1 and counts["pairs"] == 3
    refusal = counts["refusals"][0]
    assert refusal.startswith(f"{bo}:2: pair {data.pair_id(edited)}")
    assert ("not one of the class pairs" if edit == "summary" else "other texts") in refusal
    assert data.pair_id(edited) == data.pair_id(pairs[1]) or edit == "summary"  # an edited post keeps the pair id
    with pytest.raises((AnswerError, KeyError), match="other texts|not in `pairs`"):  # a notebook's table refuses it
        compare_with(load_answers(bo), pairs)


def test_cli_class_merge(tmp_path, capsys):
    from rlaif_lib.cli import main

    pairs = classroom.class_pairs("toy")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    save_answer(a, make_answer("ana", pairs[0], "a", 0, 2))
    save_answer(b, make_answer("bo", pairs[0], "a", 1, 2))
    main(["class-merge", str(a), str(b), "--out", str(tmp_path / "m.jsonl"), "--pairs", "toy"])
    out = capsys.readouterr().out
    assert "2 answers" in out and "0 refused" in out and len(load_answers(tmp_path / "m.jsonl")) == 2
    tampered = dict(make_answer("bo", pairs[1], "a", 1, 2), texts="000000000000")
    b.write_text("{}\n" + json.dumps(tampered) + "\n")
    main(["class-merge", str(a), str(b), "--out", str(tmp_path / "m.jsonl"), "--pairs", "toy"])
    captured = capsys.readouterr()
    assert "1 answers" in captured.out and "2 refused" in captured.out
    err = [line for line in captured.err.splitlines() if line.startswith("rlaif class-merge: refused")]
    assert len(err) == 2 and "b.jsonl:1: field 'student' is missing" in err[0]
    assert f"b.jsonl:2: pair {data.pair_id(pairs[1])}" in err[1]
    with pytest.raises(SystemExit) as e:  # nothing left to merge
        main(["class-merge", str(b), "--out", str(tmp_path / "m2.jsonl"), "--pairs", "toy"])
    assert e.value.code == 2 and "no answer to merge" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # the answers are about the toy pairs, not the real ones
        main(["class-merge", str(a), "--out", str(tmp_path / "m3.jsonl"), "--pairs", "openai-batch13"])
    assert e.value.code == 2 and "not one of the class pairs" in capsys.readouterr().err


def test_agreement_table_by_hand():
    # dataset raters: p0 -> 0, p1 -> 1, p2 -> 0; AI: prefers a on p0, p1, b on p2; gold: a on p0, b on p1, tie on p2
    ai = [{"id": "p0", "p_a": 0.9}, {"id": "p1", "p_a": 0.6}, {"id": "p2", "p_a": 0.2}]
    gold = {"p0": 0.8, "p1": 0.3, "p2": 0.5}
    answers = [answer("ana", "p0", 0), answer("ana", "p1", 1), answer("ana", "p2", 1),
               answer("bo", "p0", 1), answer("bo", "p0", 0)]  # bo's latest answer on p0 is 0
    ai = [dict(x, pair_id=data.pair_id(BY_NAME[x["id"]])) for x in ai]
    gold = {data.pair_id(BY_NAME[k]): v for k, v in gold.items()}
    table = {r["judge"]: r for r in compare_with(answers, PAIRS, ai, gold)}
    assert table["class vs AI labeler"]["agreement"] == pytest.approx(3 / 4)  # ana p0 yes, p1 no, p2 yes; bo p0 yes
    assert table["class vs AI labeler"]["n"] == 4
    assert table["class vs simulated human raters"]["agreement"] == pytest.approx(3 / 4)  # ana p2 disagrees
    assert table["class vs gold rater"]["agreement"] == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert table["class vs class (two students, same pair)"]["agreement"] == 1.0
    assert table["class vs class (two students, same pair)"]["n"] == 1
    assert table["(reference) AI labeler vs simulated human raters"]["agreement"] == pytest.approx(1 / 3)
    assert table["(reference) AI labeler vs gold rater"]["agreement"] == pytest.approx((1 + 0 + 0.5) / 3)
    for row in table.values():
        assert row["ci_low"] <= row["agreement"] <= row["ci_high"]
    assert not any("vs each other" in judge for judge in table)  # one rater per pair: no raters' row
    nope = dict(PAIRS[0], id="nope")
    with pytest.raises(KeyError, match="nope"):
        compare_with([answer("ana", nope, 0)], PAIRS, ai)
    with pytest.raises(ValueError, match="pair_id"):  # label rows joined by a post id would mix pairs
        compare_with(answers, PAIRS, [{"id": "p0", "p_a": 0.9}])


def test_class_labels_are_vote_shares():
    answers = [answer("ana", "p0", 0), answer("bo", "p0", 0), answer("cy", "p0", 1), answer("ana", "p2", 1)]
    pairs, p_a = class_labels(answers, PAIRS)
    assert [p["id"] for p in pairs] == ["p0", "p2"] and p_a == pytest.approx([2 / 3, 0.0])
    twin = dict(PAIRS[0], summary_b="another summary of the same post")  # a second pair on post p0
    pairs, p_a = class_labels(answers + [answer("dee", twin, 1)], PAIRS + [twin])
    assert [data.pair_id(p) for p in pairs] == [data.pair_id(q) for q in (PAIRS[0], PAIRS[2], twin)]
    assert p_a == pytest.approx([2 / 3, 0.0, 0.0])


def test_simulated_class_is_named_and_valid():
    answers = simulated_class(PAIRS, lambda pair, rng: (pair["choice"], 3), n_students=3, per_student=2)
    assert len(answers) == 6 and all(a["simulated"] and a["student"].startswith("simulated-") for a in answers)
    by_id = {data.pair_id(p): p for p in PAIRS}
    assert all(a["choice"] == by_id[a["pair_id"]]["choice"] and preference_strength(a["confidence"]) == 3 for a in answers)
    for a in answers:
        check_answer(a)
        assert a["texts"] == classroom.pair_texts_hash(by_id[a["pair_id"]])


def test_widget_saves_clicks_headless_and_resumes(tmp_path):
    pytest.importorskip("ipywidgets")
    path = tmp_path / "answers.jsonl"
    _, _, strength, buttons, _ = classroom.labeling_widget(PAIRS[:3], path, student="ana").children
    left, right = buttons.children
    strength.value = 4
    left.click()
    right.click()
    saved = load_answers(path)
    assert post_ids(saved) == ["p0", "p1"]
    assert [a["texts"] for a in saved] == [classroom.pair_texts_hash(p) for p in PAIRS[:2]]
    for a, position in zip(saved, (0, 1)):  # the saved choice is the summary that was on the clicked side
        shown = classroom.display_order("ana", a["pair_id"])
        assert a["choice"] == (0 if (position == 0) == (shown == "a") else 1) and preference_strength(a["confidence"]) == 4
    *_, buttons, status = classroom.labeling_widget(PAIRS[:3], path, student="ana").children  # a restarted kernel
    assert "pair 3 of 3" in status.value
    buttons.children[0].click()
    assert "All 3 pairs done" in status.value and buttons.children[0].disabled
    assert len(unique_answers(load_answers(path))) == 3


def test_reward_model_trained_on_a_merged_class_file(tiny_lm, tmp_path):
    """RLHF with the room as the humans: students' files -> class-merge -> class labels -> reward model."""
    from rlaif_lib.method.reward import RewardStageConfig, load_reward_model, preference_accuracy, train_reward_model

    from .test_reward import synthetic_pairs

    train, test = synthetic_pairs(96, seed=11), synthetic_pairs(100, seed=12)
    for pair in train:
        pair["post"] = pair["prompt"]
    files = []
    for s in range(3):  # three students, each right about 85% of the time, each on every pair
        rng = random.Random(s)
        files.append(tmp_path / f"student{s}.jsonl")
        for pair in train:
            right = rng.random() < 0.85
            choice = pair["choice"] if right else 1 - pair["choice"]
            save_answer(files[-1], make_answer(f"s{s}", pair, "a", choice, rng.randint(1, 4)))
    assert merge_class_files(files, tmp_path / "class.jsonl", train)["refused"] == 0
    pairs, p_a = class_labels(load_answers(tmp_path / "class.jsonl"), train)
    assert len(pairs) == 96 and {0.0, 1 / 3, 2 / 3, 1.0} >= set(p_a)
    path = train_reward_model(tiny_lm, pairs, p_a, tmp_path / "rm",
                              RewardStageConfig(epochs=4, learning_rate=2e-3, batch_size=16), progress=False)
    acc = preference_accuracy(load_reward_model(path), test)
    assert acc["value"] >= 0.75, acc


def test_load_class_reads_every_file_of_the_folder(tmp_path):
    save_answer(tmp_path / "answers-ana.jsonl", answer("ana", "p0", 0))
    save_answer(tmp_path / "answers-bo.jsonl", answer("bo", "p1", 1))
    merge_class_files([tmp_path / "answers-ana.jsonl", tmp_path / "answers-bo.jsonl"], tmp_path / "answers.jsonl",
                      PAIRS)
    assert len(classroom.load_class(tmp_path)) == 2  # the merged copy adds no duplicates
    assert post_ids(classroom.load_class(tmp_path, pairs=[PAIRS[1]])) == ["p1"]
    edited = dict(PAIRS[1], post="another post")
    with pytest.warns(UserWarning, match="other texts"):  # an answer on other texts is left out, and said so
        assert classroom.load_class(tmp_path, pairs=[edited]) == []
    assert classroom.load_class(tmp_path / "missing") == []


def test_toy_student_prefers_the_better_summary():
    from rlaif_lib import toy_world

    posts = toy_world.generate_posts(40, split="label", seed=3)
    rng = random.Random(0)
    pairs = []
    for p in posts:
        bad = toy_world.corrupt_summary(p, "off_topic", rng)
        a_good = rng.random() < 0.5
        pairs.append({"id": p.id, "post": p.body, "summary_a": p.reference if a_good else bad, "summary_b": bad if a_good else p.reference,
                      "choice": 0 if a_good else 1})
    answers = simulated_class(pairs, classroom.toy_student({p.id: p for p in posts}), n_students=2, per_student=40)
    by_id = {data.pair_id(p): p for p in pairs}
    right = [a["choice"] == by_id[a["pair_id"]]["choice"] for a in answers]
    assert sum(right) / len(right) > 0.9  # a reference against an off-topic summary is an easy call
    assert all(preference_strength(a["confidence"]) == 4 for a in answers)  # and a sure one


# ----------------------------------------------------------------------------- the fixed class pairs
def _pairs_digest(source):
    return json.dumps([[data.pair_id(p), classroom.pair_texts_hash(p), p["choices"], p["workers"]]
                       for p in classroom.class_pairs(source)])


@pytest.mark.parametrize("source", ["toy", "openai-batch13"])
def test_class_pairs_are_fixed_across_calls_and_processes(source):
    import subprocess
    import sys

    pairs = classroom.class_pairs(source)
    assert len(pairs) == 20 and len({data.pair_id(p) for p in pairs}) == 20  # every pair named once
    assert _pairs_digest(source) == _pairs_digest(source)
    other = subprocess.run([sys.executable, "-c", f"from tests.test_classroom import _pairs_digest; "
                            f"print(_pairs_digest({source!r}))"], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == _pairs_digest(source)  # another process (another laptop) sees the same pairs
    for p in pairs:
        assert {"id", "post", "prompt", "summary_a", "summary_b", "choice", "confidence"} <= set(p)
        assert p["choice"] == p["choices"][0] and len(p["choices"]) == len(p["workers"])


def test_toy_class_pairs_file_is_the_generators_and_says_simulated():
    from rlaif_lib.run_folder import read_jsonl

    rows = read_jsonl(classroom.TOY_CLASS_FILE)
    assert rows == json.loads(json.dumps(classroom.toy_class_rows()))  # regenerable: write_toy_class_pairs()
    assert all(r["worker"].startswith("simulated-rater-") and "SIMULATED" in r["batch"] for r in rows)
    pairs = classroom.class_pairs("toy")
    assert all(len(p["choices"]) == classroom.TOY_CLASS_RATERS for p in pairs)
    posts = classroom.toy_class_posts()
    assert set(posts) == {p["id"] for p in pairs}
    assert all(data.post_text(p) == data.normalize_post(posts[p["id"]].body) for p in pairs)


def test_real_class_pairs_come_from_the_test_half_and_some_have_several_workers():
    pairs = classroom.class_pairs("openai-batch13")
    test = {data.pair_id(p) for p in data.comparisons_to_pairs(data.load_comparisons("openai-batch13", split="test"))}
    selection = data.comparisons_to_pairs(data.load_comparisons("openai-batch13", split="selection"))
    assert {data.pair_id(p) for p in pairs} <= test
    assert not {data.post_text(p) for p in pairs} & {data.post_text(p) for p in selection}
    several = [p for p in pairs if len(p["choices"]) > 1]
    assert len(several) == classroom.REAL_CLASS_MULTI
    assert all(len(set(p["workers"])) == len(p["workers"]) for p in several)  # different workers, not repeats


def test_simulated_is_in_the_rows_and_the_raters_agreement_row_has_its_n():
    pairs = classroom.class_pairs("openai-batch13")
    answers = simulated_class(pairs, lambda p, rng: (p["choice"], 2), n_students=4, per_student=20)
    table = compare_with(answers, pairs, raters="OpenAI's workers")
    judges = [r["judge"] for r in table]
    assert judges == ["class (SIMULATED) vs OpenAI's workers", "class (SIMULATED) vs class (two students, same pair)",
                      "(reference) OpenAI's workers vs each other (two raters, same pair)"]
    workers = table[-1]
    expected = [float(x == y) for p in pairs for i, x in enumerate(p["choices"]) for y in p["choices"][i + 1:]]
    assert workers["n"] == len(expected) and workers["agreement"] == pytest.approx(sum(expected) / len(expected))
    # an answer scores the share of the pair's workers it agrees with: replaying the first worker on a pair
    # that 8 workers labelled scores the share of the 8 who chose the same
    by_id = {data.pair_id(p): p for p in pairs}
    shares = [sum(c == a["choice"] for c in by_id[a["pair_id"]]["choices"]) / len(by_id[a["pair_id"]]["choices"])
              for a in answers]
    assert table[0]["n"] == len(answers) and table[0]["agreement"] == pytest.approx(sum(shares) / len(shares))
    real = [dict(a, simulated=False) if a["student"] == "simulated-1" else a for a in answers]
    mixed = f"class ({len(answers) - 20} of {len(answers)} answers SIMULATED)"
    assert compare_with(real, pairs)[0]["judge"].startswith(mixed)
    people = [{k: v for k, v in a.items() if k != "simulated"} for a in answers]
    assert compare_with(people, pairs)[0]["judge"] == "class vs simulated human raters"


def test_the_toy_class_against_every_judge():
    pairs = classroom.class_pairs("toy")
    answers = simulated_class(pairs, classroom.toy_student(classroom.toy_class_posts()), n_students=6, per_student=10)
    ai = [{"pair_id": data.pair_id(p), "p_a": 0.6} for p in pairs]
    gold = {data.pair_id(p): 0.7 for p in pairs}
    table = {r["judge"]: r for r in compare_with(answers, pairs, ai, gold)}
    assert set(table) == {"class (SIMULATED) vs AI labeler", "class (SIMULATED) vs simulated human raters",
                          "class (SIMULATED) vs gold rater", "class (SIMULATED) vs class (two students, same pair)",
                          "(reference) AI labeler vs simulated human raters", "(reference) AI labeler vs gold rater",
                          "(reference) simulated human raters vs each other (two raters, same pair)"}
    answered = {a["pair_id"] for a in answers}
    assert table["(reference) simulated human raters vs each other (two raters, same pair)"]["n"] == 3 * len(answered)
    kept, p_a = class_labels(answers, pairs)  # the reward model's data: the fixed pairs the class answered
    assert {data.pair_id(p) for p in kept} == answered and all(0 <= x <= 1 for x in p_a)
