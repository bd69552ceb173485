"""Figures that show up: plots in executed notebooks hold an image (issue: MPLBACKEND=Agg emptied them)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from .check_figures import missing_figures

ROOT = Path(__file__).resolve().parent.parent


def test_missing_figures_finds_an_empty_plot():
    shown = {"cell_type": "code", "source": "plt.plot([1])\nplt.show()",
             "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}]}
    empty = {"cell_type": "code", "source": ["fig, ax = plt.subplots()\n", "plt.show()"], "outputs": []}
    commented = {"cell_type": "code", "source": "# plt.show()", "outputs": []}
    assert missing_figures({"cells": [shown, empty, commented]}) == [1]


def test_an_executed_notebook_holds_its_plots(tmp_path):
    """Execute notebook 00 (plots, no training) in a kernel started as `make test` starts it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "00_background.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    shows = sum("plt.show()" in "".join(c["source"]) for c in nb.cells if c["cell_type"] == "code")
    assert shows >= 1 and missing_figures(nb) == []

