"""The package imports on Windows laptops: no POSIX-only module (fcntl, termios, pwd,
grp, resource) on the import path of any rlaif_lib module. Two checks: (1) in a fresh interpreter where
`import fcntl` fails (sys.modules["fcntl"] = None), every rlaif_lib module imports; (2) no rlaif_lib
source imports a POSIX-only module at all. (Blocking termios & co. in (1) would also break
huggingface_hub, which imports termios only where it exists: a library's guarded import is fine.)"""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource")

SCRIPT = """
import importlib, pkgutil, sys
sys.modules["fcntl"] = None
import rlaif_lib
failed = []
for mod in pkgutil.walk_packages(rlaif_lib.__path__, "rlaif_lib."):
    try:
        importlib.import_module(mod.name)
    except ImportError as e:
        failed.append(f"{mod.name}: {e}")
print("\\n".join(failed) or "all imported")
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_without_posix_only_modules():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, f"modules that need a POSIX-only module:\n{result.stdout}{result.stderr[-2000:]}"
    assert result.stdout.strip() == "all imported"


def test_no_rlaif_lib_source_imports_a_posix_only_module():
    found = []
    for path in sorted((ROOT / "rlaif_lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in POSIX_ONLY]
    assert not found, found
