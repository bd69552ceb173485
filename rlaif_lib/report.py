"""The run's report: `report.md` (and `report.html`) with every table and figure of a run folder,
so an instructor can show a finished run without opening a notebook."""
from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure  # not pyplot: PNGs on any backend, and a notebook keeps its own

from . import paper, readings
from .data import CONFIDENCE_SCALE_NOTE, HIGH_CONFIDENCE_STRENGTH
from .method.labeling.tables import markdown, markdown_table
from .method.rewards import REWARD_FN_NAMES, REWARD_MODELS
from .run_folder import RunFolder, write_text
from .stats import fmt_ci, fmt_pct


def _frac(percent):
    """A paper percentage as a fraction (the report's win rates and accuracies are fractions)."""
    return None if percent is None else percent / 100


def _load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def plot_curves(run, figures: Path) -> list[str]:
    """Draw the run's training curves and win rates as PNGs in `figures`; return the file names."""
    run = RunFolder(Path(run))
    figures.mkdir(exist_ok=True)
    made = []
    sft = _load(run.sft_loss)
    rm = {k: _load(run.reward_loss(k)) for k in ("ai", "human")}
    if sft or any(rm.values()):
        fig = Figure(figsize=(9, 3.2))
        axes = fig.subplots(1, 2)
        if sft:
            axes[0].plot([h["step"] for h in sft], [h["loss"] for h in sft])
        axes[0].set(title="SFT loss (completion tokens)", xlabel="step")
        for k, curve in rm.items():
            if curve:
                axes[1].plot([h["step"] for h in curve], [h["loss"] for h in curve], label=f"RM on {k} labels")
        axes[1].set(title="Reward-model loss", xlabel="step")
        if any(rm.values()):
            axes[1].legend()
        fig.tight_layout()
        fig.savefig(figures / "losses.png", dpi=110)
        made.append("losses.png")
    rl_runs = {name: _load(run.rl_curves(name)) for name in run.rl_policies()}
    if rl_runs:
        fig = Figure(figsize=(13, 3))
        axes = fig.subplots(1, 4)
        for name, curves in rl_runs.items():
            reward_key = REWARD_FN_NAMES.get(name, "reward")  # the reward this policy optimised
            for ax, key in zip(axes, [reward_key, "kl", "length", REWARD_FN_NAMES["gold"]]):
                if key in curves:
                    ax.plot(curves["step"], curves[key], label=name)
        for ax, title in zip(axes, ["policy's reward", "KL to SFT (per token)", "completion length (tokens)",
                                    "gold rater score (same rollouts)"]):
            ax.set(title=title, xlabel="RL step")
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(figures / "rl_curves.png", dpi=110)
        made.append("rl_curves.png")
    metrics = _load(run.metrics) or {}
    if metrics.get("win_rate"):
        names, wins = list(metrics["win_rate"]), list(metrics["win_rate"].values())
        vals = [w["value"] for w in wins]
        err = [[w["value"] - w["ci_low"] for w in wins], [w["ci_high"] - w["value"] for w in wins]]
        fig = Figure(figsize=(1.8 + 1.6 * len(names), 3.2))
        ax = fig.subplots()
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], vals, 0.4, yerr=err, capsize=4, label="this run (95% CI)")
        ax.bar([i + 0.2 for i in x], [_frac(paper.WIN_RATE.get(n, float("nan"))) for n in names], 0.4, label="paper")
        ax.axhline(0.5, color="gray", lw=0.8, ls="--")
        ax.set_xticks(list(x), [n.replace("_", " ") for n in names])
        ax.set(ylim=(0, 1), ylabel="win rate", title="Win rates (Table 1)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(figures / "win_rates.png", dpi=110)
        made.append("win_rates.png")
    return made


def write_report(run, metrics: dict) -> Path:
    """Write report.md and report.html for the run folder `run` from its `metrics`. Each table is followed
    by the sentences of `rlaif_lib.readings` that state its result (the talk prints the same ones); after the
    tables set beside the paper's, the notes on what differs from the paper (from `metrics` and the run's
    preset.json)."""
    run = RunFolder(Path(run))
    figs = plot_curves(run, run.figures)
    lines = [f"# RLAIF kit: run report ({metrics.get('preset')})", ""]
    if (metrics.get("judge") or {}).get("kind") == "gold":
        lines += ["This run lives in the toy world: its \"human\" labels, its win-rate judge and its gold scores are "
                  "SIMULATED raters, not people.", ""]
    lines += ["## Stage timings", "",
             markdown_table(["stage", "seconds"], metrics.get("stages", {}).items())]
    if "labeler" in metrics:
        lab = metrics["labeler"]
        lines += ["", "## AI labeler (Sec. 2.1)", "", f"Labeler: {lab['name']}.", "", "| measure | this run | paper |",
                  "| --- | --- | --- |",
                  f"| alignment with held-out human labels | {fmt_ci(lab['alignment_ci'])} | "
                  f"{fmt_pct(_frac(paper.BEST_ALIGNMENT))} (PaLM 2 L) |",
                  f"| alignment, high-confidence pairs (strength >= {HIGH_CONFIDENCE_STRENGTH}) | "
                  f"{fmt_ci(lab['alignment_high_confidence'])} | |",
                  f"| same position preferred after swap | {lab['same_position_pct']:.1f}% | "
                  + ", ".join(f"{v}% ({k.replace('PaLM 2 ', '')})" for k, v in paper.SAME_POSITION.items()) + " |",
                  f"| position kept after the swap, when kept | {lab.get('position_direction')} | "
                  + "; ".join(f"{k.replace('PaLM 2 ', '')}: {v}" for k, v in paper.POSITION_DIRECTION.items()) + " |"]
        lines += [f"| baseline: {name} | {fmt_ci(val) if isinstance(val, dict) else fmt_pct(val)} | |"
                  for name, val in lab.get("baselines", {}).items()]
        lines += ["", *(f"- {r}" for r in (readings.alignment_reading(metrics), readings.position_reading(metrics),
                                           readings.agreement_reading(metrics))), "", CONFIDENCE_SCALE_NOTE]
        if lab.get("techniques"):
            lines += ["", "### Prompt techniques (Table 2; `paper` = PaLM 2 L alignment %)", "",
                      markdown(lab["techniques"]), "", f"- {readings.techniques_reading(lab['techniques'])}"]
    if "reward_model" in metrics:
        rows = [[label, fmt_ci(rm, "accuracy_human"), fmt_pct(_frac(in_paper)) if in_paper else ""]
                for folder, label, in_paper in (("ai", "soft AI labels (RLAIF)", paper.RM_ACCURACY["ai"]),
                                                ("human", "human labels (RLHF)", paper.RM_ACCURACY["human"]),
                                                ("ai_hard", "hard (argmax) AI labels", None),
                                                ("ai_same_size", "same-size labeler's labels", None))
                if (rm := metrics.get(REWARD_MODELS[folder]))]
        lines += ["", "## Reward models (Table 5)", "",
                  markdown_table(["reward model", "accuracy on held-out human prefs", "paper"], rows),
                  "", f"- {readings.rm_reading(metrics)}"]
    if metrics.get("win_rate"):
        lc, paper_lc = metrics.get("win_rate_length_controlled") or {}, paper.WIN_RATE_LENGTH_CONTROLLED
        rows = [[name.replace("_", " "), fmt_ci(val), fmt_pct(lc.get(name)), fmt_pct(_frac(paper.WIN_RATE.get(name)))
                 + (f" (length-controlled {fmt_pct(_frac(paper_lc[name]))})" if paper_lc.get(name) else "")]
                for name, val in metrics["win_rate"].items()]
        lines += ["", "## Win rates (Table 1)", "",
                  markdown_table(["comparison", "this run", "length-controlled", "paper"], rows), ""]
        lines += [f"- {readings.win_reading(metrics, name)}" for name in metrics["win_rate"]]
    from .experiments import seeds

    spread = seeds.load_committed(metrics.get("preset"))
    if spread:
        lines += ["", "## How far these numbers move with the seed (PRECOMPUTED)", "",
                  (f"This run beside the committed seed study of the same preset ({spread.get('measured', '')}"
                   f"{'; SIMULATED raters and judge' if spread.get('simulated') else ''}): a run on another machine "
                   "should land inside each range."), "",
                  seeds.spread_table(metrics, spread)]
    notes = readings.paper_comparison_notes(metrics, _load(run.preset) or {})
    if notes:
        lines += ["", "## Like for like? What differs from the paper", "", *(f"- {n}" for n in notes)]
    if metrics.get("gold_score"):
        rows = [[k, f"{v['value']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]"]
                for k, v in metrics["gold_score"].items()]
        lines += ["", "## Gold rater score of held-out summaries (toy world)", "",
                  markdown_table(["policy", "mean gold score [95% CI]"], rows)]
        gold = readings.gold_reading(metrics)
        lines += ["", f"- {gold}"] if gold else []
    from .experiments.analysis import report_section

    lines += report_section(run)  # toy world: what the labeler's labels (and its reward model) track
    summaries = run.summaries
    if summaries.exists():
        first = json.loads(summaries.read_text().splitlines()[0])
        lines += ["", "## An example", ""] + [f"- **{k}**: {v}" for k, v in first.items() if k != "id"]
    if figs:
        lines += ["", "## Figures", ""] + [f"![{f}](figures/{f})" for f in figs]
    text = "\n".join(lines) + "\n"
    write_text(run.report, text)
    _write_html(run.report_html, text)
    return run.report


def _write_html(path: Path, markdown: str) -> None:
    """An HTML copy of the report (markdown-it, CommonMark with tables), for a browser."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown)
    write_text(path, f"<html><body style=\"font-family:sans-serif\">\n{body}</body></html>\n")


# ------------------------------------------ the generated tables of README.md and docs/MEASUREMENTS.md (readme.py)


def results_table(metrics: dict, seeds: dict | None = None) -> str:
    """README's results table: a run's headline numbers beside the paper's (from `rlaif_lib.paper`), and, given
    a seed study of the same preset (`experiments.seeds`), each number's mean and range over its seeds."""
    lab, size, same = metrics["labeler"], paper.LABELER_SIZE, paper.SAME_POSITION
    rm, win = {k: metrics[REWARD_MODELS[k]] for k in ("human", "ai")}, metrics.get("win_rate") or {}
    rows = [("AI labeler alignment with human labels", f"{fmt_ci(lab['alignment_ci'])} ({lab['name']})",
             f"{size['PaLM 2 L']}% (L), {size['PaLM 2 XS']}% (XS)", "labeler alignment"),
            ("same position preferred after the swap", f"{lab['same_position_pct']:.1f}%",
             f"{same['PaLM 2 L']}% (L), {same['PaLM 2 XS']}% (XS)", "same position after the swap (%)"),
            ("reward model accuracy, human labels (RLHF)", fmt_ci(rm["human"], "accuracy_human", n=False),
             f"{paper.RM_ACCURACY['human']}%", "reward model accuracy, human labels"),
            ("reward model accuracy, soft AI labels (RLAIF)", fmt_ci(rm["ai"], "accuracy_human", n=False),
             f"{paper.RM_ACCURACY['ai']}%", "reward model accuracy, AI labels")]
    names = {"rlhf_vs_sft": "RLHF vs SFT", "rlaif_vs_sft": "RLAIF vs SFT", "drlaif_vs_sft": "d-RLAIF vs SFT",
             "rlaif_same_size_vs_sft": "same-size RLAIF vs SFT", "rlaif_vs_rlhf": "RLAIF vs RLHF"}
    rows += [(f"win rate {name}", fmt_ci(win[key]), f"{paper.WIN_RATE[key]}%", name)
             for key, name in names.items() if key in win]
    simulated = ", SIMULATED raters" if (metrics.get("judge") or {}).get("kind") == "gold" else ""
    header = ["measure", f"this kit ({metrics.get('preset')}{simulated})"]
    if seeds is None:
        return markdown_table([*header, "paper (PaLM 2)"], [r[:3] for r in rows])

    def mean_range(key):
        s = seeds["spread"].get(key)
        if s is None:
            return ""
        f = (lambda x: f"{x:.1f}%") if key.endswith("(%)") else (lambda x: f"{100 * x:.1f}%")
        return f"{f(s['mean'])} ({f(s['min'])} to {f(s['max'])})"

    n = len(seeds["seeds"])
    return markdown_table([*header, f"mean (range) of {n} seeds, PRECOMPUTED", "paper (PaLM 2)"],
                          [(r[0], r[1], mean_range(r[3]), r[2]) for r in rows])


def timings_table(metrics: dict, resources: dict | None = None) -> str:
    """The timing table (docs/MEASUREMENTS.md): seconds per pipeline stage (metrics.json) and, from the record
    that `benchmarks/peak_memory.py` writes around `make demo` (runs/demo/resources.json), the notebooks'
    seconds, the whole command's wall time and the peak memory of its process tree."""
    phases = {p["phase"]: p for p in (resources or {}).get("phases", [])}
    rows = []
    for stage, seconds in metrics.get("stages", {}).items():
        mem = phases.get(stage, {}).get("peak_pss_mb")
        rows.append((stage, f"{seconds:.0f}" if seconds is not None else "", f"{mem / 1024:.2f}" if mem else ""))
    notebooks = [p for name, p in phases.items() if name.endswith(".ipynb")]
    if notebooks:
        rows.append((f"{len(notebooks)} notebooks", f"{sum(p['seconds'] for p in notebooks):.0f}",
                     f"{max(p['peak_pss_mb'] for p in notebooks) / 1024:.2f}"))
    if resources:
        rows.append((f"**`{resources.get('name') or resources['command']}`, in all**",
                     f"**{resources['wall_seconds']:.0f}**",
                     f"**{(resources.get('peak_pss_mb') or resources['peak_rss_mb']) / 1024:.2f}**"))
    machine = (resources or {}).get("machine")
    if machine:  # the speed of the machine when it ran (benchmarks/peak_memory.py --probe)
        rows.append(("machine speed at the start", f"fp32 matmul {machine['matmul_gflops']:.0f} GFLOP/s "
                     f"({machine['threads']} threads), memory copy {machine['memory_copy_gbs']:.1f} GB/s", ""))
    return markdown_table(["part", "seconds", "peak memory (GiB, PSS of the process tree)"], rows)


if __name__ == "__main__":  # python -m rlaif_lib.report RUN: write (again) a finished run folder's report
    import sys

    folder = RunFolder(Path(sys.argv[1]))
    print(write_report(folder, json.loads(folder.metrics.read_text())))
