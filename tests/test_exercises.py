"""The exercises' checks (rlaif_lib/exercises.py) and the students' copies (rlaif_lib/handouts.py): every check
passes a right answer, fails a typical wrong one with a message that names the mistake, and leaves `...` alone;
every notebook has a stub exercise with a check, and its solution outside the students' copies."""
import json
import random
from pathlib import Path

import numpy as np
import pytest

from rlaif_lib import exercises as ex
from rlaif_lib import handouts, toy_world

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def said(capsys) -> str:
    return capsys.readouterr().out


def test_unfilled_answers_never_pass_or_fail(capsys):
    post = toy_world.generate_posts(1, split="label", seed=7)[0]
    assert ex.check_summary(post, ...) is None
    assert ex.check_prediction("q", ..., "x") is None
    assert ex.check_sample_size(..., 0.5, 0.05) is None
    assert ex.check_loo_advantages(..., [1.0, 2.0]) is None
    assert ex.check_rater_agreement({0.1: ...}, []) is None
    assert "not filled in yet" in said(capsys)


def test_check_summary_names_what_costs_points(capsys):
    post = toy_world.generate_posts(1, split="label", seed=7)[0]
    assert ex.check_summary(post, post.reference) is True
    assert ex.check_summary(post, "My boyfriend forgot my birthday, should I break up with him?") is False
    out = said(capsys)
    assert "leaves out event" in out and "wrong fact (relation: boyfriend)" in out


def test_check_hardest_corruption(capsys):
    scores = {"reference": [1.0, 1.0], "mild": [0.9, 0.8], "bad": [0.1, 0.0]}
    assert ex.check_hardest_corruption("mild", scores) is True
    assert ex.check_hardest_corruption("bad", scores) is False
    assert ex.check_hardest_corruption("nope", scores) is False
    assert "smallest mean margin" in said(capsys)


def test_check_rater_agreement(capsys):
    posts = toy_world.generate_posts(40, split="label", seed=1)
    pairs = toy_world.policy_like_pairs(posts, seed=0)
    taus = (toy_world.TAU / 2, toy_world.TAU)
    right = {t: toy_world.rater_agreement(pairs, seed=0, tau=t) for t in taus}
    assert ex.check_rater_agreement(right, pairs) is True
    assert ex.check_rater_agreement({t: toy_world.rater_agreement(pairs, seed=0) for t in taus}, pairs) is False


def test_check_prediction(capsys):
    assert ex.check_prediction("q", "a", "a", options=("a", "b")) is True
    assert ex.check_prediction("q", "b", "a", options=("a", "b")) is False
    assert ex.check_prediction("q", "c", "a", options=("a", "b")) is False
    assert "answer one of" in said(capsys)


def test_check_all_token_loss(tiny_lm, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = AutoModelForCausalLM.from_pretrained(tiny_lm).eval(), AutoTokenizer.from_pretrained(tiny_lm)
    rows = [{"prompt": "my boyfriend forgot tl dr", "completion": " he forgot"}]
    loss = ex.all_token_loss(model, tok, rows)
    assert ex.check_all_token_loss(loss, model, tok, rows, summary_only_loss=loss + 1) is True
    assert ex.check_all_token_loss(loss + 0.5, model, tok, rows, summary_only_loss=loss + 1) is False
    assert ex.check_all_token_loss(loss + 1, model, tok, rows, summary_only_loss=loss + 1) is False
    assert "summary-only loss" in said(capsys)


def test_check_soft_label_names_the_order_mistakes(capsys):
    ab, ba = [0.7, 0.3], [0.6, 0.4]
    assert ex.check_soft_label((0.7 + 0.4) / 2, ab, ba) is True
    assert ex.check_soft_label((0.7 + 0.6) / 2, ab, ba) is False
    assert "A is summary '2'" in said(capsys)
    assert ex.check_soft_label(0.7, ab, ba) is False
    assert "order (A, B) alone" in said(capsys)


def test_check_same_position(capsys):
    labels = [{"probs_ab": [0.7, 0.3], "probs_ba": [0.6, 0.4]}, {"probs_ab": [0.7, 0.3], "probs_ba": [0.4, 0.6]}]
    assert ex.check_same_position([True, False], labels) is True
    assert ex.check_same_position([True, True], labels) is False
    assert "label 1" in said(capsys)
    assert ex.check_same_position([True], labels) is False


def test_check_self_consistency(capsys):
    ab = np.array([[0.9, 0.1], [0.4, 0.6], [0.6, 0.4]])
    ba = np.array([[0.3, 0.7], [0.5, 0.5], [0.2, 0.8]])
    right = (ab.mean(0)[0] + ba.mean(0)[1]) / 2
    assert ex.check_self_consistency(right, ab, ba) is True
    votes = np.mean([a[0] >= a[1] for a in ab] + [b[1] > b[0] for b in ba])
    assert ex.check_self_consistency(votes, ab, ba) is False
    assert "majority vote" in said(capsys)


def test_check_interval_reading(capsys):
    a, b = {"value": 0.6, "ci_low": 0.55, "ci_high": 0.65}, {"value": 0.5, "ci_low": 0.45, "ci_high": 0.56}
    assert ex.check_interval_reading(False, a, b) is True
    assert ex.check_interval_reading(True, a, b) is False
    assert ex.check_interval_reading(True, a, {**b, "ci_high": 0.54}) is True


def test_check_sample_size(capsys):
    assert ex.check_sample_size(385, 0.5, 0.05) is True
    assert ex.check_sample_size(200, 0.5, 0.05) is False
    assert ex.check_sample_size(20, 0.5, 0.05) is False
    assert "sqrt(n)" in said(capsys)


def test_check_loss_gradient(capsys):
    sigmoid = lambda d: 1 / (1 + np.exp(-d))
    assert ex.check_loss_gradient(lambda d, p: sigmoid(d) - p) is True
    assert ex.check_loss_gradient(lambda d, p: p - sigmoid(d)) is False
    assert "sign is flipped" in said(capsys)
    assert ex.check_loss_gradient(lambda d, p: sigmoid(d)) is False


def test_check_share_preferring_and_longer(capsys):
    assert ex.check_share_preferring(0.5, [1.0, 0.0], [0.0, 1.0]) is True
    assert ex.check_share_preferring(0.4, [1.0, 0.0], [0.0, 1.0]) is False
    assert ex.check_share_longer(0.5, ["a b c", "a"], ["a b", "a b"]) is True
    assert ex.check_share_longer(1.0, ["a b c", "a"], ["a b", "a b"]) is False


def test_check_loo_advantages(capsys):
    r = [1.0, 2.0, 3.0, 6.0]
    loo = [x - (sum(r) - x) / 3 for x in r]
    assert ex.check_loo_advantages(loo, r) is True
    assert ex.check_loo_advantages([x - np.mean(r) for x in r], r) is False
    assert "leave it out" in said(capsys)


def test_check_wins_over_games(capsys):
    rng = np.random.default_rng(0)
    p = rng.uniform(0.2, 0.8, 200)
    draws = (rng.random((1000, len(p))) < p).mean(axis=1)
    assert ex.check_wins_over_games(draws, p) is True
    assert ex.check_wins_over_games(np.full(1000, p.mean()), p) is False  # no spread: not a draw per post
    assert ex.check_wins_over_games(draws + 0.1, p) is False


def test_check_alignment(capsys):
    pairs = [{"id": "a", "choice": 0}, {"id": "b", "choice": 1}, {"id": "c", "choice": 0}]
    labels = [{"id": "a", "p_a": 0.8}, {"id": "b", "p_a": 0.7}, {"id": "c", "p_a": 0.5}]
    assert ex.check_alignment(1.5 / 3, labels, pairs) is True
    assert ex.check_alignment(1 / 3, labels, pairs) is False


# ------------------------------------------------------------------------------------------------------------
# The notebooks: stubs with checks, solutions apart
# ------------------------------------------------------------------------------------------------------------
def notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_every_notebook_has_tiered_stub_exercises_with_checks(path):
    cells = json.loads(path.read_text())["cells"]
    text = lambda c: "".join(c["source"])
    stubs = [c for c in cells if c["cell_type"] == "code" and not handouts.is_solution(c)
             and "check_" in text(c) and "= ..." in text(c)]
    assert stubs, f"{path.name}: no exercise cell with `...` to fill in and a check_...() call"
    solutions = [text(c) for c in cells if c["cell_type"] == "code" and handouts.is_solution(c)]
    assert any("assert check_" in s for s in solutions), f"{path.name}: no solution runs through its check"
    headings = [text(c) for c in cells if c["cell_type"] == "markdown" and text(c).startswith("**") and
                any(f"({tier}" in text(c).split("\n")[0] for tier in ex.TIERS)]
    assert headings, f"{path.name}: no exercise heading names its tier ({', '.join(ex.TIERS)})"
    assert not [c for c in cells if "Answers for the instructor" in text(c) and not handouts.is_solution(c)], \
        f"{path.name}: answers for the instructor outside a solution cell"


def test_student_copies_drop_solutions_and_keep_stubs(tmp_path):
    written = handouts.write_student_copies(tmp_path, NOTEBOOKS)
    assert [p.name for p in written] == [p.name for p in notebooks()]
    for path in written:
        cells = json.loads(path.read_text())["cells"]
        assert not [c for c in cells if handouts.is_solution(c)], path.name
        assert not [c for c in cells if "Answers for the instructor" in "".join(c["source"])], path.name
        assert any("= ..." in "".join(c["source"]) for c in cells if c["cell_type"] == "code"), path.name
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), path.name


def test_no_student_cell_needs_a_solution_cell():
    """What a solution cell defines, no cell after it outside the solutions may use: the students' copies must run
    top to bottom without them (every exercise's names are defined by its own stub cell)."""
    import ast

    for path in notebooks():
        cells = json.loads(path.read_text())["cells"]
        defined_by_solution, defined_elsewhere = set(), set()
        for c in cells:
            if c["cell_type"] != "code":
                continue
            tree = ast.parse("".join(c["source"]))
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            if handouts.is_solution(c):
                defined_by_solution |= names - defined_elsewhere
            else:
                missing = (used & defined_by_solution) - defined_elsewhere - names
                assert not missing, f"{path.name}: a students' cell uses {sorted(missing)}, defined only in a solution"
                defined_elsewhere |= names


def test_handout_has_the_pipeline_and_the_glossary():
    terms = dict(handouts.glossary(NOTEBOOKS))
    for term in ("soft label", "position bias", "KL penalty", "win rate", "reward model"):
        assert term in terms, term
    page = handouts.handout_html(NOTEBOOKS)
    assert page.count("<li>") == len(terms) and "data:image/png;base64," in page
    assert "$" not in page.split("<ul>")[1]  # no raw LaTeX on a printed page


def test_a_missing_glossary_is_a_clear_error(tmp_path):
    (tmp_path / "00_background.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                               "nbformat_minor": 5}))
    with pytest.raises(ValueError, match="Glossary"):
        handouts.glossary(tmp_path)


def test_random_is_unused_here():
    assert random.Random(0).random() < 1  # keeps the import honest for the fixtures' random text


def test_exercise_timings_read_the_executed_cells(tmp_path):
    def cell(kind, text, start=None, end=None):
        c = {"cell_type": kind, "metadata": {}, "source": [text]}
        if kind == "code":
            c["outputs"], c["execution_count"] = [], None
            if start:
                c["metadata"]["execution"] = {"iopub.execute_input": start, "shell.execute_reply": end}
        return c

    nb = {"cells": [cell("markdown", "## Exercises\n\n**1. First (warm-up, 2 minutes).** Do it."),
                    cell("code", "x = ...", "2026-12-07T10:00:00.000Z", "2026-12-07T10:00:01.500Z"),
                    cell("code", "x = 1", "2026-12-07T10:00:02.000Z", "2026-12-07T10:00:04.000Z"),
                    cell("markdown", "**2. Second (stretch).** More."),
                    cell("code", "y = ...", "2026-12-07T10:00:05.000Z", "2026-12-07T10:00:05.250Z"),
                    cell("markdown", "## Discussion"), cell("code", "z = 2", "2026-12-07T10:00:06Z", "2026-12-07T10:01:06Z")],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    assert [(e["number"], e["title"], e["tier"], e["cells"]) for e in handouts.exercises(nb)] == [
        (1, "First", "warm-up", [1, 2]), (2, "Second", "stretch", [4])]
    (tmp_path / "x.ipynb").write_text(json.dumps(nb))
    assert [(r["notebook"], r["number"], r["seconds"]) for r in handouts.exercise_timings(tmp_path)] == [
        ("x", 1, 3.5), ("x", 2, 0.2)]


def test_every_committed_exercise_is_found_with_its_cells():
    for path in notebooks():
        found = handouts.exercises(json.loads(path.read_text()))
        assert found and [e["number"] for e in found] == list(range(1, len(found) + 1)), path.name
        assert all(e["cells"] for e in found), f"{path.name}: an exercise without a code cell"
