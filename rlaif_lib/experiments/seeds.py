"""How far a run's headline numbers move with the seed: the whole chain under several seeds.

A run's 95% intervals resample the evaluation posts; they say nothing about what another seed, or another
CPU's float rounding, would have given. Training amplifies such small differences: the same commit on
another machine gives other numbers. This study runs the whole pipeline (`pipeline.run`, what `rlaif run`
runs) once per seed, each in its own run folder, and reports every headline number's mean and range
over the seeds. A run of this preset on any machine should land inside that range; one outside it is
news. Seed 0's folder can be an existing run (`base`), e.g. the demo's. Nothing is shared between the
seeds but the labeler's cache of scored prompts (identical prompts get identical scores).

`make seeds` runs 5 seeds on `tiny` and commits the result (assets/seeds_tiny.json), which README, the
report and the notebooks show beside the run's own numbers.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..run_folder import read_json, write_json

COMMITTED = Path(__file__).resolve().parent.parent / "assets" / "seeds_tiny.json"

# headline name -> where metrics.json holds it
HEADLINE = {
    "labeler alignment": ("labeler", "alignment"),
    "same position after the swap (%)": ("labeler", "same_position_pct"),
    "reward model accuracy, human labels": ("reward_model_rlhf", "accuracy_human"),
    "reward model accuracy, AI labels": ("reward_model", "accuracy_human"),
    "RLHF vs SFT": ("win_rate", "rlhf_vs_sft", "value"),
    "RLAIF vs SFT": ("win_rate", "rlaif_vs_sft", "value"),
    "d-RLAIF vs SFT": ("win_rate", "drlaif_vs_sft", "value"),
    "RLAIF vs RLHF": ("win_rate", "rlaif_vs_rlhf", "value"),
    "gold score, SFT": ("gold_score", "sft", "value"),
    "gold score, RLAIF": ("gold_score", "rlaif", "value"),
    "gold score, RLHF": ("gold_score", "rlhf", "value"),
    "words per summary, SFT": ("mean_words", "sft"),
    "words per summary, RLHF": ("mean_words", "rlhf"),
    "longer summary preferred by the raters": ("human_longer_wins", "value"),
    "agreement between two raters": ("human_rater_agreement",),
}


def headline_numbers(metrics: dict) -> dict:
    """The HEADLINE numbers of one run's metrics.json (those it has)."""
    out = {}
    for name, path in HEADLINE.items():
        value = metrics
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            out[name] = float(value)
    return out


def spread(values: list) -> dict:
    """{"mean", "min", "max", "n"} of some numbers."""
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values), "n": len(values)}


def _run_seed(args) -> dict:
    """One seed's pipeline run (in a worker process of its own, one torch thread, output to its pipeline.log)."""
    preset, folder, log = args
    from .. import pipeline

    with contextlib.ExitStack() as stack:
        if log:
            import torch

            torch.set_num_threads(1)
            stream = stack.enter_context(open(Path(folder) / "pipeline.log", "a"))
            stack.enter_context(contextlib.redirect_stdout(stream))
            stack.enter_context(contextlib.redirect_stderr(stream))
        return pipeline.run(preset, folder)


def run_seeds(preset, out, seeds=(0, 1, 2, 3, 4), base=None, workers: int = 1, progress: bool = True) -> dict:
    """Run the whole pipeline of `preset` once per seed in out/seed-<s>/ (seed `preset.seed`'s folder is `base`
    when given, a finished or unfinished run of the same preset); write and return out/seeds.json: each seed's
    headline numbers and their spread. `workers` > 1 runs that many seeds at once, one thread each."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    folders = {s: Path(base) if base and s == preset.seed else out / f"seed-{s}" for s in seeds}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    jobs = {s: (replace(preset, seed=s), str(folders[s]), workers > 1) for s in seeds}
    with (ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1
          else contextlib.nullcontext()) as pool:
        futures = {}
        for s in seeds:
            if progress:
                print(f"[seeds] seed {s}: {folders[s]}", flush=True)
            futures[s] = pool.submit(_run_seed, jobs[s]) if pool else _run_seed(jobs[s])
        metrics = {s: f.result() if pool else f for s, f in futures.items()}
    per_seed = {str(s): headline_numbers(m) for s, m in metrics.items()}
    names = [n for n in HEADLINE if all(n in h for h in per_seed.values())]
    result = {"what": "the whole pipeline under several seeds: each headline number's mean and range",
              "preset": preset.name, "seeds": list(seeds), "runs": {str(s): str(f) for s, f in folders.items()},
              "per_seed": per_seed, "spread": {n: spread([h[n] for h in per_seed.values()]) for n in names},
              "seconds": round(time.time() - start, 1), "workers": workers,
              "simulated": metrics[seeds[0]].get("judge", {}).get("kind") == "gold"}
    write_json(out / "seeds.json", result)
    return result


def inside(metrics: dict, result: dict) -> dict:
    """Per headline number of `metrics`: whether it lies inside the seed range of `result`."""
    mine = headline_numbers(metrics)
    return {n: s["min"] <= mine[n] <= s["max"] for n, s in result["spread"].items() if n in mine}


def spread_table(metrics: dict, result: dict) -> str:
    """This run's headline numbers beside the seed mean and range of `result` (markdown)."""
    from ..method.labeling.tables import markdown_table

    mine = headline_numbers(metrics)

    def fmt(name, x):  # rates as percentages; words and percentages as they are; gold scores on their 0-1 scale
        if "words" in name or "%" in name:
            return f"{x:.1f}"
        return f"{x:.3f}" if name.startswith("gold score") else f"{100 * x:.1f}%"

    rows = [(name, fmt(name, mine[name]) if name in mine else "", fmt(name, s["mean"]),
             f"{fmt(name, s['min'])} to {fmt(name, s['max'])}") for name, s in result["spread"].items()]
    n = len(result["seeds"])
    return markdown_table(["measure", "this run", f"mean of {n} seeds", f"range of {n} seeds"], rows)


def load_committed(preset: str | None = None) -> dict | None:
    """The seed spread measured on `tiny` and committed with the kit (`make seeds`), or None before there is one;
    with `preset` (a name), None unless it was measured on that preset."""
    study = read_json(COMMITTED) if COMMITTED.exists() else None
    return study if study and preset in (None, study["preset"]) else None


def commit(result: dict, path=COMMITTED) -> dict:
    """Save a `tiny` seed study as the kit's committed one, with a line saying when and how long it took."""
    from .precomputed import commit_tiny

    return commit_tiny(result, path, f"rlaif seeds --preset tiny --n {len(result['seeds'])}")
