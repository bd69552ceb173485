"""Every plot in an executed notebook must show up: a code cell that calls `plt.show()` (or displays a
figure) needs an image/png output; and no output holds a traceback, a warning or a library's load report
(clutter a student would ask about: silence it at its source, with the reason). `make notebooks` runs this on
the executed copies it writes:

    python tests/check_figures.py runs/demo/notebooks
"""
import json
import re
import sys
from pathlib import Path

PLOT_CALL = re.compile(r"^[^#\n]*\b(plt\.show\(\)|display\(fig)", re.M)
NOISE = re.compile(r"Traceback \(most recent call last\)|\b\w*Warning: |LOAD REPORT|\[RANK \d+\]")


def missing_figures(notebook: dict) -> list[int]:
    """Indices of the code cells that call plt.show() (or display a figure) but hold no image/png output."""
    missing = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not PLOT_CALL.search("".join(cell["source"])):
            continue
        if not any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            missing.append(i)
    return missing


def noisy_outputs(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, the offending line) for each output that is an error, or a stream holding a traceback, a
    warning, a load report or a "[RANK n]" log line."""
    noisy = []
    for i, cell in enumerate(notebook["cells"]):
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if out.get("output_type") == "error":
                noisy.append((i, f"{out.get('ename')}: {out.get('evalue')}"))
                continue
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            line = next((ln for ln in text.splitlines() if NOISE.search(ln)), None)
            if line:
                noisy.append((i, line.strip()[:160]))
    return noisy


def main(folder) -> int:
    bad, noisy = {}, {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        if cells := missing_figures(notebook):
            bad[path.name] = cells
        if found := noisy_outputs(notebook):
            noisy[path.name] = found
    for name, cells in bad.items():
        print(f"{name}: cells {cells} call plt.show() but hold no image (is MPLBACKEND=Agg set for the kernel?)")
    for name, found in noisy.items():
        for cell, line in found:
            print(f"{name}: cell {cell} prints {line!r}")
    return 1 if bad or noisy else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
