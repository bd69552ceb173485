"""Refresh the committed example run (`examples/run/`) from a finished run folder.

    .venv/bin/python examples/refresh.py                 # from runs/demo (after `make demo`)
    .venv/bin/python examples/refresh.py --src runs/x    # from another run

Copies only what a fresh clone needs to show results before any run: metrics.json, preset.json,
report.md, resources.json (`make demo`'s time, memory and machine speed) and the figures (PNG), then
writes examples/run/README.md naming the preset that produced them (read from metrics.json). Refuses to
copy more than MAX_KB in all, so the repository stays small. When it refreshes examples/run itself, it
then rewrites the generated blocks of README.md and docs/MEASUREMENTS.md from it (`rlaif_lib.readme`).
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "examples" / "run"
MAX_KB = 500
FILES = ("metrics.json", "preset.json", "report.md", "resources.json")


def refresh(src: Path, dest: Path = DEST, max_kb: int = MAX_KB) -> list[Path]:
    """Copy the run folder `src`'s metrics, preset, report and figures into `dest` (replacing it);
    return the files written. Raises if `src` has no metrics.json or the copy would exceed max_kb."""
    src = Path(src)
    if not (src / "metrics.json").exists():
        raise FileNotFoundError(f"{src}/metrics.json not found: run `make demo` first (or pass --src RUN_FOLDER).")
    metrics = json.loads((src / "metrics.json").read_text())
    chosen = [src / f for f in FILES if (src / f).exists()] + sorted((src / "figures").glob("*.png"))
    total_kb = sum(p.stat().st_size for p in chosen) / 1024
    if total_kb > max_kb:
        raise ValueError(f"{src}: metrics, report and figures come to {total_kb:.0f} KB, over the {max_kb} KB "
                         "limit for a committed example; shrink the figures or raise MAX_KB deliberately.")
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "figures").mkdir(parents=True)
    written = []
    for p in chosen:
        target = dest / p.relative_to(src)
        shutil.copy2(p, target)
        written.append(target)
    if (src / "notebooks").is_dir():  # the executed copies of `make demo`: how long each exercise took
        from rlaif_lib.handouts import exercise_timings

        target = dest / "exercise_timings.json"
        target.write_text(json.dumps(exercise_timings(src / "notebooks"), indent=1) + "\n")
        written.append(target)
    preset = metrics.get("preset", "unknown")
    judge = metrics.get("judge") or ""  # a dict {"kind": "gold" | "ai", ...}; a string in older runs
    simulated = judge.get("kind") == "gold" if isinstance(judge, dict) else judge.startswith("simulated")
    stages = metrics.get("stages") or {}
    readme = dest / "README.md"
    readme.write_text(
        f"# Example run (preset `{preset}`)\n\n"
        f"Produced by `rlaif run --preset {preset}` and copied here by `make example-run` "
        f"(`examples/refresh.py`) on {time.strftime('%Y-%m-%d')}, from `{src.name}/`"
        + (f"; the pipeline's stages took {sum(v for v in stages.values() if v) / 60:.0f} min in all" if stages else "")
        + ".\n\n"
        + ("The run lives in the toy world: its \"human\" labels, win-rate judge and gold scores are **simulated**.\n\n"
           if simulated else "")
        + "It is what the slides (`make slides`), the report and the evaluation notebook show on a fresh clone, "
        "before any run of your own. After `make demo`, `make slides` uses `runs/demo` instead, and "
        "`make example-run` copies that run here.\n\n"
        "Files: `metrics.json` (every number), `preset.json` (the settings), `report.md` (tables), "
        "`resources.json` (time, memory and machine speed of `make demo`, when the run has it), "
        "`exercise_timings.json` (seconds per exercise in the executed notebooks), "
        "`figures/` (training curves and win rates). README.md and docs/MEASUREMENTS.md quote this run.\n"
        + (f"\nThis example comes from the small `{preset}` preset, not the `tiny` demo: its samples are tiny "
           "and its intervals wide. Refresh it from a `make demo` run for the numbers the README quotes.\n"
           if preset != "tiny" else ""))
    return written + [readme]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Refresh examples/run from a finished run folder.")
    ap.add_argument("--src", type=Path, default=ROOT / "runs" / "demo")
    ap.add_argument("--dest", type=Path, default=DEST)
    args = ap.parse_args(argv)
    written = refresh(args.src, args.dest)
    size = sum(p.stat().st_size for p in written) / 1024
    print(f"Wrote {len(written)} files ({size:.0f} KB) to {args.dest}")
    if args.dest.resolve() == DEST.resolve():  # the committed example: the README and MEASUREMENTS.md quote it
        import sys

        sys.path.insert(0, str(ROOT))
        from rlaif_lib import readme

        changed = readme.update_docs(readme.Sources(run=DEST))
        print("Rewrote the generated blocks of", ", ".join(str(p.relative_to(ROOT)) for p in changed) or "nothing")


if __name__ == "__main__":
    main()
