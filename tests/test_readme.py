"""README.md and docs/MEASUREMENTS.md state no number by hand: their generated blocks are what
rlaif_lib/readme.py prints from the committed example run and measurements (`python -m rlaif_lib.readme`)."""
import re
import shutil
from pathlib import Path

import pytest

from rlaif_lib import readme

ROOT = Path(__file__).resolve().parents[1]
FILES = (ROOT / "README.md", ROOT / "docs" / "MEASUREMENTS.md")
# A measured quantity written out: a number followed by a unit or a share.
MEASURE = re.compile(r"\d[\d.,]*\s*(?:%|s\b|seconds?\b|min\b|minutes?\b|hours?\b|[MG]i?B\b|GFLOP|x\b|steps\b|pairs\b|"
                     r"tests\b)", re.I)


@pytest.fixture(scope="module")
def sources():
    return readme.Sources()


def prose(text: str) -> str:
    """The text outside generated blocks, code (fenced and inline), link targets and "95% interval" (a level,
    not a measurement)."""
    text = re.sub(r"\b95% interval", "", readme.BLOCK.sub("", text))
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_committed_file_is_what_the_code_prints(path, sources, tmp_path):
    """Regenerate the blocks into a copy: a hand-edited number, or a stale one, fails here."""
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    assert readme.update_docs(sources, [copy]) == [], (
        f"{path.relative_to(ROOT)} differs from what `python -m rlaif_lib.readme` prints from examples/run and the "
        "committed measurements: run it (after `make example-run`) instead of editing numbers by hand")
    assert copy.read_text() == path.read_text()


def test_every_block_is_printed_by_a_function_and_each_file_has_its_blocks():
    names = {path.name: readme.block_names(path.read_text()) for path in FILES}
    assert set(names["README.md"]) == {"demo-time", "results", "comparison-notes", "headline", "fidelity",
                                      "sweep-reading", "overopt-reading"}
    assert {"timings", "timings-source", "install", "sweep-setup", "sweep", "sweep-reading", "sweep-profiles",
            "overopt-reading", "seeds", "selection-setup", "selection", "gpu-estimates"} <= set(names["MEASUREMENTS.md"])
    assert set(names["README.md"]) | set(names["MEASUREMENTS.md"]) <= set(readme.BLOCKS)
    with pytest.raises(KeyError, match="no-such-block"):
        readme.render("<!-- generated:no-such-block -->\n<!-- /generated:no-such-block -->", readme.Sources())


def test_a_hand_edited_number_is_rewritten(sources):
    text = FILES[0].read_text()
    edited = text.replace("| win rate RLHF vs SFT | ", "| win rate RLHF vs SFT | 99.9% ", 1)
    assert edited != text and readme.render(edited, sources) == text


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_measured_number_outside_generated_blocks(path):
    found = MEASURE.findall(prose(path.read_text()))
    assert not found, f"{path.relative_to(ROOT)} states numbers by hand: {found}; print them in a generated block"


def test_readme_is_a_front_page():
    text = FILES[0].read_text()
    assert len(text.splitlines()) <= 170
    assert "make test" in text and "make demo" in text
    assert re.search(r"SIMULATED", text) and "docs/MEASUREMENTS.md" in text
    for link in re.findall(r"\]\(((?!https?:)[^)#]+)\)", text):
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_timing_sentence_uses_resources_when_the_run_has_them(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(ROOT / "examples" / "run" / "metrics.json", run)
    (run / "resources.json").write_text('{"name": "make demo", "command": "x", "wall_seconds": 600.4, '
                                        '"peak_rss_mb": 3000, "peak_pss_mb": 1536, "phases": [], '
                                        '"machine": {"threads": 2, "matmul_gflops": 300.2, "memory_copy_gbs": 20.0}}')
    src = readme.Sources(run=run)
    assert "took 10 minutes, notebooks included, at 1.50 GiB" in readme.demo_time(src)
    assert "fp32 matmul 300 GFLOP/s" in readme.timings_source(src)
    assert readme.timings(src).splitlines()[-1].startswith("| machine speed at the start |")
