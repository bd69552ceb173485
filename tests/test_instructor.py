"""INSTRUCTOR.md's plan: two meetings whose minutes add up (90 and 45) with setup and slack, naming notebooks that
exist; its generated blocks (timings, exercises) are current."""
import re
from pathlib import Path

from rlaif_lib import readme

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "notebooks" / "INSTRUCTOR.md"


def meetings() -> dict:
    """{heading: [(minutes, block), ...]} of the plan's meeting tables."""
    text = GUIDE.read_text()
    found = {}
    for m in re.finditer(r"^\*\*(Meeting \d \((\d+) minutes\)[^*]*)\*\*\n\n((?:\|.*\n)+)", text, flags=re.MULTILINE):
        rows = [line.split("|")[1:3] for line in m[3].splitlines()[2:]]
        found[m[1]] = (int(m[2]), [(int(minutes), block.strip().strip("`")) for minutes, block in rows])
    return found


def test_two_meetings_of_90_and_45_minutes_add_up_with_slack():
    plan = meetings()
    assert sorted(total for total, _ in plan.values()) == [45, 90], plan.keys()
    for heading, (total, rows) in plan.items():
        assert sum(m for m, _ in rows) == total, f"{heading}: the minutes add up to {sum(m for m, _ in rows)}"
        blocks = dict((b, m) for m, b in rows)
        assert blocks.get("slack", 0) >= 5, f"{heading}: no slack"
        assert "setup" in blocks, f"{heading}: no minutes for setup"
        for block in blocks:
            if re.match(r"\d\d", block):
                assert (ROOT / "notebooks" / f"{block}.ipynb").exists(), f"{heading}: no notebook {block}"
    first = next(rows for total, rows in plan.values() if total == 90)
    assert any(b == "class labeling" for _, b in first) and any(b == "merge answers" for _, b in first)
    second = next(rows for total, rows in plan.values() if total == 45)
    assert any(b == "06_what_if" for _, b in second), "the second meeting is notebook 06's"


def test_the_guide_names_the_day_before_and_the_handouts():
    text = GUIDE.read_text()
    for step in ("make setup", "make demo", "make student", "make handout"):
        assert step in text.split("## The plan")[0], f"the day-before checklist lacks {step}"


def test_generated_blocks_are_current(tmp_path):
    copy = tmp_path / "INSTRUCTOR.md"
    copy.write_text(GUIDE.read_text())
    assert readme.update_docs(readme.Sources(), [copy]) == [], "run `python -m rlaif_lib.readme`"
    assert "<!-- generated:exercises -->" in copy.read_text() and "<!-- generated:notebook-timings -->" in copy.read_text()
