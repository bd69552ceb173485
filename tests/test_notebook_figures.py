"""Figures that show up: plots in executed notebooks hold an image (issue: MPLBACKEND=Agg emptied them)."""
import os
import subprocess
import sys
from pathlib import Path

from .check_figures import missing_figures, noisy_outputs

ROOT = Path(__file__).resolve().parent.parent


def test_missing_figures_finds_an_empty_plot():
    shown = {"cell_type": "code", "source": "plt.plot([1])\nplt.show()",
             "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}]}
    empty = {"cell_type": "code", "source": ["fig, ax = plt.subplots()\n", "plt.show()"], "outputs": []}
    commented = {"cell_type": "code", "source": "# plt.show()", "outputs": []}
    assert missing_figures({"cells": [shown, empty, commented]}) == [1]


def test_noisy_outputs_finds_tracebacks_warnings_and_load_reports_not_progress_bars():
    def cell(*outputs):
        return {"cell_type": "code", "source": "x", "outputs": list(outputs)}

    def stderr(text):
        return {"output_type": "stream", "name": "stderr", "text": text}

    nb = {"cells": [cell(stderr("sampling: 100%|##########| 7/7 [00:01<00:00]\n")),
                    cell(stderr(["a.py:3: FutureWarning: `x` is deprecated\n"])),
                    cell({"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}),
                    cell(stderr("[transformers] LlamaForSequenceClassification LOAD REPORT from: sft\n")),
                    cell(stderr("[RANK 0] You passed `model_init_kwargs`\n")),
                    {"cell_type": "markdown", "source": "Warning: a markdown cell is prose"}]}
    assert [i for i, _ in noisy_outputs(nb)] == [1, 2, 3, 4]


def test_an_executed_notebook_holds_its_plots(tmp_path):
    """Execute notebook 00 (plots, no training) in a kernel started as `make test` starts it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "00_background.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    shows = sum("plt.show()" in "".join(c["source"]) for c in nb.cells if c["cell_type"] == "code")
    assert shows >= 1 and missing_figures(nb) == []
    assert noisy_outputs(nb) == []



def test_importing_the_kit_keeps_the_notebook_backend():
    """A module that calls matplotlib.use("Agg") on import would silently empty every later plt.show()."""
    code = ("import importlib, pkgutil, matplotlib, rlaif_lib\n"
            "for m in pkgutil.walk_packages(rlaif_lib.__path__, 'rlaif_lib.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(matplotlib.get_backend())")
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("backend_inline"), out.stdout
