"""The paper's numbers live in rlaif_lib/paper.py only: notebooks and README read them from there."""
import json
import re
from pathlib import Path

from rlaif_lib import paper
from rlaif_lib.report import results_table

README_BEGIN, README_END = "<!-- generated:results -->", "<!-- /generated:results -->"

ROOT = Path(__file__).resolve().parents[1]
TABLES = (paper.WIN_RATE, paper.WIN_RATE_LENGTH_CONTROLLED, paper.TECHNIQUES, paper.LABELER_SIZE, paper.SAME_POSITION,
          paper.RM_ACCURACY, paper.SELF_CONSISTENCY)


def paper_patterns() -> dict:
    """Every percentage in paper.py's tables -> a regex for it written out: a decimal ("76.1",
    "78.0") anywhere, a whole number ("71") as a percentage ("71%", "73-77%")."""
    values = {v for table in TABLES for v in table.values()} | set(paper.HUMAN_AGREEMENT)
    patterns = {}
    for v in values:
        forms = []
        if isinstance(v, float):
            forms.append(rf"(?<![\d.]){re.escape(str(v))}(?!\d)")
        if float(v).is_integer():
            forms.append(rf"(?<![\d.]){int(v)}(?:\s*%|-\d+\s*%)")
        patterns[v] = re.compile("|".join(forms))
    return patterns


def typed_paper_numbers(text: str) -> list[str]:
    return sorted(m.group(0) for pattern in paper_patterns().values() for m in pattern.finditer(text))


def outside_generated(text: str) -> str:
    """README without its generated blocks (<!-- generated:NAME --> ... <!-- /generated:NAME -->: the results
    table and the other blocks rlaif_lib/readme.py prints)."""
    return re.sub(r"<!-- generated:([\w-]+) -->.*?<!-- /generated:\1 -->", "", text, flags=re.S)


def test_the_scanner_finds_typed_numbers():
    assert typed_paper_numbers("RLAIF beats SFT 71% of the time; the labeler 78.0, humans 73-77%") == [
        "71%", "73-77%", "77%", "78.0"]
    assert typed_paper_numbers("n=71 posts, 0.05 KL, 40 tokens, 78 steps, 50 s") == []


def test_no_paper_number_is_typed_in_the_notebooks():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            found = typed_paper_numbers("".join(cell["source"]))
            assert not found, f"{path.name} cell {i} types the paper's numbers {found}: read them from rlaif_lib.paper"


def test_no_paper_number_is_typed_in_the_readme_outside_its_generated_table():
    text = (ROOT / "README.md").read_text()
    assert README_BEGIN in text and README_END in text
    found = typed_paper_numbers(outside_generated(text))
    assert not found, f"README.md types the paper's numbers {found} outside the generated table"


def test_readme_table_paper_column_is_what_paper_py_generates():
    ci = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 10}
    metrics = {"preset": "tiny", "labeler": {"name": "x", "alignment_ci": ci, "same_position_pct": 50.0},
               "reward_model": {"accuracy_human": 0.5, **ci}, "reward_model_rlhf": {"accuracy_human": 0.5, **ci},
               "win_rate": {k: ci for k in ("rlhf_vs_sft", "rlaif_vs_sft", "drlaif_vs_sft", "rlaif_vs_rlhf")}}

    def paper_column(table: str) -> dict:
        rows = [line.strip("|").split("|") for line in table.strip().splitlines()[2:]]
        return {r[0].strip(): r[-1].strip() for r in rows}

    readme = (ROOT / "README.md").read_text()
    generated = readme[readme.index(README_BEGIN) + len(README_BEGIN):readme.index(README_END)]
    assert paper_column(generated) == paper_column(results_table(metrics))
