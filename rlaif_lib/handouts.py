"""What an instructor hands out: the students' copies of the notebooks and a one-page handout.

- `student_copy(notebook)`: the notebook without the cells tagged "solution" (the exercises' solutions and the
  answers for the instructor) and without outputs. `make student` writes one per notebook into student/.
- `exercises(notebook)` and `exercise_timings(executed_dir)`: each exercise's number, title and tier, and the seconds
  its cells took in executed copies (nbclient's timing metadata), for the instructor's plan.
- `handout_html(notebooks_dir)`: one printable page: the pipeline diagram (`diagrams.pipeline_diagram`) and the
  glossary, read from notebook 00's "## Glossary" cell, so the page says what the notebooks say.

    python -m rlaif_lib.handouts student --out student     # (make student)
    python -m rlaif_lib.handouts handout --out handout.html  # (make handout)
"""
from __future__ import annotations

import base64
import copy
import html
import io
import json
import re
from datetime import datetime
from pathlib import Path

SOLUTION_TAG = "solution"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def is_solution(cell: dict) -> bool:
    """True for a cell tagged "solution" (an exercise's solution or the answers for the instructor)."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_copy(notebook: dict) -> dict:
    """The notebook (nbformat JSON) without its solution cells, with every output and execution count cleared."""
    nb = copy.deepcopy(notebook)
    nb["cells"] = [c for c in nb["cells"] if not is_solution(c)]
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    return nb


def write_student_copies(out_dir, notebooks_dir=NOTEBOOKS) -> list[Path]:
    """`student_copy` of every notebook in `notebooks_dir`, written to `out_dir`; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        target = out_dir / path.name
        target.write_text(json.dumps(student_copy(json.loads(path.read_text())), indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


EXERCISE_HEADING = re.compile(r"^\*\*(\d+)\. (.+?) \((warm-up|core|stretch)\b[^)]*\)\.?\*\*", flags=re.MULTILINE)


def exercises(notebook: dict) -> list[dict]:
    """The exercises of a notebook (nbformat JSON): {number, title, tier, cells}, `cells` the indices of the code
    cells from its heading to the next heading (its stub, its solution and any cell between)."""
    found = []
    for i, cell in enumerate(notebook["cells"]):
        text = "".join(cell["source"])
        m = EXERCISE_HEADING.search(text) if cell["cell_type"] == "markdown" else None
        if m:
            found.append({"number": int(m[1]), "title": m[2].rstrip("?.").strip(), "tier": m[3], "cells": []})
        elif cell["cell_type"] == "markdown" and text.startswith("## ") and found:
            found[-1]["closed"] = True
        elif cell["cell_type"] == "code" and found and not found[-1].get("closed"):
            found[-1]["cells"].append(i)
    return [{k: v for k, v in e.items() if k != "closed"} for e in found]


def _cell_seconds(cell: dict) -> float:
    t = cell.get("metadata", {}).get("execution", {})
    start, end = t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def exercise_timings(executed_dir) -> list[dict]:
    """{notebook, number, title, tier, seconds} of every exercise in the executed notebooks of `executed_dir`
    (e.g. runs/demo/notebooks after `make demo`), seconds = its cells' execution time, solution included."""
    rows = []
    for path in sorted(Path(executed_dir).glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for e in exercises(nb):
            rows.append({"notebook": path.stem, "number": e["number"], "title": e["title"], "tier": e["tier"],
                         "seconds": round(sum(_cell_seconds(nb["cells"][i]) for i in e["cells"]), 1)})
    return rows


def glossary(notebooks_dir=NOTEBOOKS) -> list[tuple[str, str]]:
    """(term, definition) pairs of notebook 00's "## Glossary" cell (lines "- **term**: definition"); a clear
    error when the cell is missing."""
    path = Path(notebooks_dir) / "00_background.ipynb"
    for cell in json.loads(path.read_text())["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("## Glossary"):
            return re.findall(r"^- \*\*(.+?)\*\*:? (.+)$", text, flags=re.MULTILINE)
    raise ValueError(f"{path}: no markdown cell starting with '## Glossary'")


def _tex_to_text(s: str) -> str:
    """Inline LaTeX of the glossary, made readable without MathJax (a printed page has none)."""
    for tex, plain in ((r"\pi_\theta", "π_θ"), (r"\pi_{SFT}", "π_SFT"), (r"\mathrm{KL}", "KL"), (r"\beta", "β"),
                       (r"\sigma", "σ"), (r"\succ", "≻"), (r"\mid", "|"), (r"\,\|\,", " ‖ "), (r"\,", " "),
                       (r"\text{A better}", "A better"), (r"\text{A}", "A"), (r"\text{B}", "B")):
        s = s.replace(tex, plain)
    return s.replace("$", "")


def handout_html(notebooks_dir=NOTEBOOKS) -> str:
    """The one-page handout as a self-contained HTML page (the pipeline as an embedded PNG, the glossary)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .diagrams import pipeline_diagram

    fig = pipeline_diagram()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    items = "\n".join(f"<li><b>{html.escape(_tex_to_text(t))}</b>: {html.escape(_tex_to_text(d))}</li>"
                      for t, d in glossary(notebooks_dir))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>RLAIF: the pipeline and the glossary</title>
<style>
@page {{ size: A4 landscape; margin: 10mm; }}
body {{ font-family: sans-serif; font-size: 9.5pt; margin: 0; }}
h1 {{ font-size: 13pt; margin: 0 0 4px 0; }}
img {{ width: 100%; }}
ul {{ columns: 2; column-gap: 18px; padding-left: 14px; margin: 4px 0; }}
li {{ margin-bottom: 3px; break-inside: avoid; }}
.small {{ color: #555; font-size: 8pt; }}
</style></head><body>
<h1>RLAIF (Lee et al., 2023): the pipeline and the words the notebooks use</h1>
<img alt="the RLAIF pipeline" src="data:image/png;base64,{png}">
<ul>
{items}
</ul>
<p class="small">Generated by rlaif-kit (<code>make handout</code>) from notebook 00's glossary and
<code>rlaif_lib.diagrams.pipeline_diagram</code>.</p>
</body></html>
"""


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="students' notebooks and the one-page handout")
    parser.add_argument("what", choices=("student", "handout"))
    parser.add_argument("--out", required=True, help="student: a folder; handout: an .html file")
    args = parser.parse_args()
    if args.what == "student":
        for p in write_student_copies(args.out):
            print("wrote", p)
    else:
        Path(args.out).write_text(handout_html())
        print("wrote", args.out, "(open it in a browser and print it: one landscape page)")
