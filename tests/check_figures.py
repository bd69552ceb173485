"""Every plot in an executed notebook must show up: a code cell that calls `plt.show()` (or displays a
figure) needs an image/png output. `make notebooks` runs this on the executed copies it writes:

    python tests/check_figures.py runs/demo/notebooks
"""
import json
import re
import sys
from pathlib import Path

PLOT_CALL = re.compile(r"^[^#\n]*\b(plt\.show\(\)|display\(fig)", re.M)


def missing_figures(notebook: dict) -> list[int]:
    """Indices of the code cells that call plt.show() (or display a figure) but hold no image/png output."""
    missing = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not PLOT_CALL.search("".join(cell["source"])):
            continue
        if not any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            missing.append(i)
    return missing


def main(folder) -> int:
    bad = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        cells = missing_figures(json.loads(path.read_text()))
        if cells:
            bad[path.name] = cells
    for name, cells in bad.items():
        print(f"{name}: cells {cells} call plt.show() but hold no image (is MPLBACKEND=Agg set for the kernel?)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
