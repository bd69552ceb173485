"""What every notebook does first: pick the preset and the run folder.

    from rlaif_lib.notebook import setup
    PRESET, RUN = setup()

`make demo` uses the `tiny` preset and runs/demo; `make test` runs the notebooks on `micro` in a
test run folder. Both come from environment variables, so the same notebook runs everywhere.
"""
from __future__ import annotations

import os
from pathlib import Path

from .presets import Preset, get_preset
from .run_folder import RunFolder, read_json

DEFAULT_PRESET = "tiny"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_RUN = ROOT / "examples" / "run"  # the committed example run: what notebook 05 shows before any run of your own
DEFAULT_RUN = str(Path(__file__).resolve().parent.parent / "runs" / "demo")  # <repo>/runs/demo, also on Colab


def setup(preset: str | None = None, run: str | None = None) -> tuple[Preset, RunFolder]:
    """(Preset, RunFolder) from the arguments, else $RLAIF_PRESET / $RLAIF_RUN, else tiny and
    <repo>/runs/demo; prints both."""
    preset = get_preset(preset or os.environ.get("RLAIF_PRESET", DEFAULT_PRESET))
    folder = RunFolder(Path(run or os.environ.get("RLAIF_RUN", DEFAULT_RUN)))
    print(f"preset {preset.name!r}, run folder {folder}")
    timing = example_run_timing()
    if timing:
        print(timing)
    return preset, folder


def example_run_timing() -> str | None:
    """One line on how long the whole `tiny` pipeline took in the committed example run (examples/run, from a
    `make demo`), with that machine's speed probe, so a reader can scale it to their own; None where the kit is
    installed without its examples folder."""
    metrics, resources = EXAMPLE_RUN / "metrics.json", EXAMPLE_RUN / "resources.json"
    if not metrics.exists() or not resources.exists():
        return None
    seconds = round(sum(read_json(metrics).get("stages", {}).values()))
    machine = read_json(resources).get("machine", {})
    return (f"the whole pipeline on `tiny` took {seconds} s in the committed example run (a CPU with "
            f"{machine.get('threads', '?')} threads, matmul {machine.get('matmul_gflops', '?')} GFLOP/s; a faster "
            "machine takes less); a stage already done in the run folder is loaded, not rerun")


def tiny_stage_seconds() -> dict:
    """Seconds each stage took in the committed example run (`tiny`, examples/run/metrics.json, refreshed
    from a `make demo`): what a notebook announces before it runs a stage. {} where the kit is
    installed without its examples folder."""
    path = EXAMPLE_RUN / "metrics.json"
    return {k: round(v) for k, v in read_json(path).get("stages", {}).items()} if path.exists() else {}


def ensure(preset: Preset, run: RunFolder, stages) -> dict:
    """Make sure `stages` are done in `run`: a stage already done is loaded, not rerun, and this says
    so; a missing one is announced with its expected time on `tiny` and run (with progress bars) by
    `pipeline.run`. Returns metrics.json's content."""
    from . import pipeline
    from .pipeline import STAGES
    from .report import write_report

    todo = [s for s in stages if not run.done(s).exists()]
    for s in stages:
        if s not in todo:
            print(f"[{s}] loaded from {run.stage(s)} (done already; delete {run.done(s).name} there to redo it)")
    if not todo:
        return read_json(run.metrics) if run.metrics.exists() else {}
    seconds = tiny_stage_seconds()
    for s in todo:
        print(f"[{s}] not in {run} yet: running it now, about {seconds.get(s, '?')} s on the tiny preset "
              f"(this run: {preset.name}) ...", flush=True)
    done = [s for s in STAGES if run.done(s).exists()]  # listed too, so metrics.json keeps their numbers
    metrics = pipeline.run(preset, run, stages=[s for s in STAGES if s in stages or s in done])
    write_report(run, metrics)
    return metrics


# ---------------------------------------------------------------------------------------------
# Sentences a notebook prints about its own numbers: the direction of a result is read off the 95% interval,
# never typed beside the cell (see rlaif_lib/readings.py, whose rules these follow).
def pct(d) -> str:
    """'63.4% [60.5, 66.9]' for an interval dict (value, ci_low, ci_high; `stats.fmt_ci`), 'not measured' without one."""
    from .readings import interval
    from .stats import fmt_ci

    return fmt_ci(d, n=False) if interval(d) else "not measured"


def side(d, ref: float = 0.5) -> str:
    """'above', 'below' or 'contains': where d's 95% interval lies relative to `ref`; '' without an interval."""
    from .readings import interval, side_of

    iv = interval(d)
    return side_of(iv, ref) if iv else ""


def beats(d, a: str, b: str, ref: float = 0.5) -> str:
    """"A beats B" when the win rate d's interval lies above `ref`, "A loses to B" below it, "A and B cannot be
    told apart at this n" when it contains it; the interval follows in brackets."""
    s = side(d, ref)
    if not s:
        return f"{a} vs {b}: not measured in this run"
    verb = {"above": f"{a} beats {b}", "below": f"{a} loses to {b}",
            "contains": f"{a} and {b} cannot be told apart at this n"}[s]
    return f"{verb} (win rate {pct(d)})"


def versus(d1, d2) -> str:
    """'above', 'below' or 'overlap': interval d1 against interval d2 ('' when either is missing)."""
    from .readings import interval
    from .readings import versus as compare

    a, b = interval(d1), interval(d2)
    return compare(a, b) if a and b else ""
