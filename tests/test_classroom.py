"""The class as the raters: answers on disk, merging, the agreement table, a reward model on the class's labels."""
import json
import random

import pytest

from rlaif_lib import classroom
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


def answer(student, pair_id, choice, confidence=None, shown_first="a"):
    return {"student": student, "pair_id": pair_id, "shown_first": shown_first, "choice": choice,
            "confidence": confidence or (3 if choice == 0 else 7), "time": "t"}


@pytest.mark.parametrize("shown_first,picked,choice", [("a", 0, 0), ("a", 1, 1), ("b", 0, 1), ("b", 1, 0)])
def test_a_click_is_stored_in_the_schemas_terms(shown_first, picked, choice):
    record = make_answer("ana", "p0", shown_first, picked, 4)
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
    missing = answer("ana", "p0", 0)
    del missing["pair_id"]
    with pytest.raises(AnswerError, match="field 'pair_id' is missing"):
        check_answer(missing)


def test_saved_answers_survive_a_restart(tmp_path):
    path = tmp_path / "class" / "answers.jsonl"
    assert load_answers(path) == []
    save_answer(path, answer("ana", "p0", 0))
    save_answer(path, answer("ana", "p1", 1))
    # a "new kernel": nothing in memory, only the file
    assert [(a["pair_id"], a["choice"]) for a in load_answers(path)] == [("p0", 0), ("p1", 1)]
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
    counts = merge_class_files([one, two], out)
    assert counts == {"files": 2, "rows": 5, "answers": 3, "duplicates": 2, "students": 2, "pairs": 2}
    merged = {(a["student"], a["pair_id"]): a["choice"] for a in load_answers(out)}
    assert merged == {("ana", "p0"): 1, ("ana", "p1"): 1, ("bo", "p0"): 0}


def test_merge_stops_on_a_bad_row_naming_file_and_line(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    save_answer(good, answer("ana", "p0", 0))
    bad.write_text(json.dumps(answer("bo", "p0", 0)) + "\n" + json.dumps(answer("bo", "p1", 1, confidence=2)) + "\n")
    out = tmp_path / "out.jsonl"
    with pytest.raises(AnswerError, match=r"bad.jsonl:2: field 'confidence' 2 contradicts choice 1"):
        merge_class_files([good, bad], out)
    assert not out.exists()
    with pytest.raises(AnswerError, match="no such file"):
        merge_class_files([tmp_path / "missing.jsonl"], out)


def test_cli_class_merge(tmp_path, capsys):
    from rlaif_lib.cli import main

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    save_answer(a, answer("ana", "p0", 0))
    save_answer(b, answer("bo", "p0", 1))
    main(["class-merge", str(a), str(b), "--out", str(tmp_path / "m.jsonl")])
    assert "2 answers" in capsys.readouterr().out and len(load_answers(tmp_path / "m.jsonl")) == 2
    b.write_text("{}\n")
    with pytest.raises(SystemExit) as e:
        main(["class-merge", str(a), str(b), "--out", str(tmp_path / "m.jsonl")])
    assert e.value.code == 2 and "b.jsonl:1: field 'student' is missing" in capsys.readouterr().err


def test_agreement_table_by_hand():
    # dataset raters: p0 -> 0, p1 -> 1, p2 -> 0; AI: prefers a on p0, p1, b on p2; gold: a on p0, b on p1, tie on p2
    ai = [{"id": "p0", "p_a": 0.9}, {"id": "p1", "p_a": 0.6}, {"id": "p2", "p_a": 0.2}]
    gold = {"p0": 0.8, "p1": 0.3, "p2": 0.5}
    answers = [answer("ana", "p0", 0), answer("ana", "p1", 1), answer("ana", "p2", 1),
               answer("bo", "p0", 1), answer("bo", "p0", 0)]  # bo's latest answer on p0 is 0
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
    with pytest.raises(KeyError, match="nope"):
        compare_with([answer("ana", "nope", 0)], PAIRS, ai)


def test_class_labels_are_vote_shares():
    answers = [answer("ana", "p0", 0), answer("bo", "p0", 0), answer("cy", "p0", 1), answer("ana", "p2", 1)]
    pairs, p_a = class_labels(answers, PAIRS)
    assert [p["id"] for p in pairs] == ["p0", "p2"] and p_a == pytest.approx([2 / 3, 0.0])


def test_simulated_class_is_named_and_valid():
    answers = simulated_class(PAIRS, lambda pair, rng: (pair["choice"], 3), n_students=3, per_student=2)
    assert len(answers) == 6 and all(a["simulated"] and a["student"].startswith("simulated-") for a in answers)
    by_id = {p["id"]: p for p in PAIRS}
    assert all(a["choice"] == by_id[a["pair_id"]]["choice"] and preference_strength(a["confidence"]) == 3 for a in answers)
    for a in answers:
        check_answer(a)


def test_widget_saves_clicks_headless_and_resumes(tmp_path):
    pytest.importorskip("ipywidgets")
    path = tmp_path / "answers.jsonl"
    _, _, strength, buttons, _ = classroom.labeling_widget(PAIRS[:3], path, student="ana").children
    left, right = buttons.children
    strength.value = 4
    left.click()
    right.click()
    saved = load_answers(path)
    assert [a["pair_id"] for a in saved] == ["p0", "p1"]
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
    from rlaif_lib.cli import main
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
            save_answer(files[-1], make_answer(f"s{s}", pair["id"], "a", choice, rng.randint(1, 4)))
    main(["class-merge", *map(str, files), "--out", str(tmp_path / "class.jsonl")])
    pairs, p_a = class_labels(load_answers(tmp_path / "class.jsonl"), train)
    assert len(pairs) == 96 and {0.0, 1 / 3, 2 / 3, 1.0} >= set(p_a)
    path = train_reward_model(tiny_lm, pairs, p_a, tmp_path / "rm",
                              RewardStageConfig(epochs=4, learning_rate=2e-3, batch_size=16), progress=False)
    acc = preference_accuracy(load_reward_model(path), test)
    assert acc["value"] >= 0.75, acc


def test_load_class_reads_every_file_of_the_folder(tmp_path):
    save_answer(tmp_path / "answers-ana.jsonl", answer("ana", "p0", 0))
    save_answer(tmp_path / "answers-bo.jsonl", answer("bo", "p1", 1))
    merge_class_files([tmp_path / "answers-ana.jsonl", tmp_path / "answers-bo.jsonl"], tmp_path / "answers.jsonl")
    assert len(classroom.load_class(tmp_path)) == 2  # the merged copy adds no duplicates
    assert [a["pair_id"] for a in classroom.load_class(tmp_path, pair_ids=["p1"])] == ["p1"]
    assert classroom.load_class(tmp_path / "missing") == []


def test_toy_student_prefers_the_better_summary():
    from rlaif_lib import toy_world

    posts = toy_world.generate_posts(40, split="label", seed=3)
    rng = random.Random(0)
    pairs = []
    for p in posts:
        bad = toy_world.corrupt_summary(p, "off_topic", rng)
        a_good = rng.random() < 0.5
        pairs.append({"id": p.id, "summary_a": p.reference if a_good else bad, "summary_b": bad if a_good else p.reference,
                      "choice": 0 if a_good else 1})
    answers = simulated_class(pairs, classroom.toy_student({p.id: p for p in posts}), n_students=2, per_student=40)
    by_id = {p["id"]: p for p in pairs}
    right = [a["choice"] == by_id[a["pair_id"]]["choice"] for a in answers]
    assert sum(right) / len(right) > 0.9  # a reference against an off-topic summary is an easy call
    assert all(preference_strength(a["confidence"]) == 4 for a in answers)  # and a sure one
