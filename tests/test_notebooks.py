"""What every teaching notebook must hold, checked on the committed notebooks without running them."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def cells(path):
    return json.loads(path.read_text())["cells"]


def text(cell):
    return "".join(cell["source"])


def test_the_six_stage_notebooks_are_there():
    stages = [p.stem[:2] for p in NOTEBOOKS if p.stem[2] == "_"]  # 02b_... is a companion of 02, not a stage
    assert stages[:6] == ["00", "01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} cell {i} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_with_collapsed_solutions_and_discussion(path):
    nb = cells(path)
    start = next(i for i, c in enumerate(nb) if re.search(r"^## Exercises", text(c), re.M))
    stop = next(i for i, c in enumerate(nb) if re.search(r"^## Discussion", text(c), re.M))
    assert start < stop, f"{path.name}: exercises come before the discussion"
    exercise_text = "\n".join(text(c).split("## Exercises")[-1] for c in nb[start:stop] if c["cell_type"] == "markdown")
    n_exercises = len(re.findall(r"^\*\*\d\. ", exercise_text, re.M))
    hidden = [c for c in nb[start:stop] if c["metadata"].get("jupyter", {}).get("source_hidden")]
    assert 2 <= n_exercises <= 4, f"{path.name}: {n_exercises} exercises, 2-4 expected"
    assert len(hidden) >= n_exercises, f"{path.name}: every exercise needs a collapsed solution"
    discussion = text(nb[stop])
    assert 2 <= len(re.findall(r"^\d\. ", discussion, re.M)) <= 3, f"{path.name}: 2-3 discussion questions expected"
    assert any(c["metadata"].get("jupyter", {}).get("source_hidden") for c in nb[stop + 1:]), f"{path.name}: no answers"


@pytest.mark.parametrize("stem,algorithm", [("01_sft", "Algorithm 1"), ("03_reward_model", "Algorithm 2"), ("04_rl", "Algorithm 3")])
def test_the_algorithm_on_the_page_and_a_quantity_checked_by_hand(stem, algorithm):
    nb = cells(ROOT / "notebooks" / f"{stem}.ipynb")
    pseudocode = [text(c) for c in nb if c["cell_type"] == "markdown" and algorithm in text(c) and "```" in text(c)]
    assert pseudocode and "(corrected)" in pseudocode[0] and "gets wrong" in pseudocode[0]
    asserts = [text(c) for c in nb if c["cell_type"] == "code" and not c["metadata"].get("jupyter", {}).get("source_hidden")
               and re.search(r"^assert ", text(c), re.M)]
    assert asserts, f"{stem}: no hand-computed quantity asserted equal to the library's"


def test_algorithm_3_has_the_kl_term_and_algorithm_2_reads_the_post():
    rl = next(text(c) for c in cells(ROOT / "notebooks" / "04_rl.ipynb") if "Algorithm 3" in text(c) and "```" in text(c))
    assert "β · KL_i" in rl and "π_θ(· | x)" in rl
    rm = next(text(c) for c in cells(ROOT / "notebooks" / "03_reward_model.ipynb") if "Algorithm 2" in text(c) and "```" in text(c))
    assert "r_φ(x, y_1)" in rm and "AI_label(x, y_1, y_2)" in rm
