"""The run's report: `report.md` (and `report.html`) with every table and figure of a run folder,
so an instructor can show a finished run without opening a notebook."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .labeler_tables import PAPER_TECHNIQUES, markdown  # noqa: E402

# The paper's numbers (Lee et al., v2), shown beside the kit's.
PAPER = {
    "alignment": PAPER_TECHNIQUES[("detailed", 0, True)] / 100,  # Table 2, Detailed + CoT 0-shot, PaLM 2 L
    "same_position_pct": {"L": 18, "S": 21, "XS": 56},  # Table 4, in percent (PaLM 2 sizes)
    "rm_accuracy": {"human": 0.793, "ai": 0.742},  # Table 5
    "win_rate": {"rlaif_vs_sft": 0.71, "rlhf_vs_sft": 0.73, "rlaif_vs_rlhf": 0.50, "drlaif_vs_sft": 0.74,
                 "rlaif_same_size_vs_sft": 0.68},  # Table 1
    "win_rate_length_controlled": {"rlaif_vs_sft": 0.59, "rlhf_vs_sft": 0.61},  # Table 8
}


def _load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def plot_curves(run: Path, figures: Path) -> list[str]:
    """Draw the run's training curves and win rates as PNGs in `figures`; return the file names."""
    figures.mkdir(exist_ok=True)
    made = []
    sft = _load(run / "sft" / "loss_curve.json")
    rm = {k: _load(run / "reward" / k / "loss_curve.json") for k in ("ai", "human")}
    if sft or any(rm.values()):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        if sft:
            axes[0].plot([h["step"] for h in sft], [h["loss"] for h in sft])
        axes[0].set(title="SFT loss (completion tokens)", xlabel="step")
        for k, curve in rm.items():
            if curve:
                axes[1].plot([h["step"] for h in curve], [h["loss"] for h in curve], label=f"RM on {k} labels")
        axes[1].set(title="Reward-model loss", xlabel="step")
        axes[1].legend()
        fig.tight_layout()
        fig.savefig(figures / "losses.png", dpi=110)
        plt.close(fig)
        made.append("losses.png")
    rl_runs = {p.name: _load(p / "curves.json") for p in sorted((run / "rl").glob("*")) if (p / "curves.json").exists()}
    if rl_runs:
        keys = ["reward_model", "kl", "length", "gold"]
        fig, axes = plt.subplots(1, 4, figsize=(13, 3))
        for name, curves in rl_runs.items():
            reward_key = next((k for k in curves if k not in ("step", "reward", "kl", "length", "gold")), "reward")
            for ax, key in zip(axes, keys):
                key = reward_key if key == "reward_model" else key
                if key in curves:
                    ax.plot(curves["step"], curves[key], label=name)
        for ax, title in zip(axes, ["policy's reward", "KL to SFT (per token)", "completion length (tokens)",
                                    "gold rater score (same rollouts)"]):
            ax.set(title=title, xlabel="RL step")
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(figures / "rl_curves.png", dpi=110)
        plt.close(fig)
        made.append("rl_curves.png")
    metrics = _load(run / "metrics.json") or {}
    if metrics.get("win_rate"):
        names = list(metrics["win_rate"])
        vals = [metrics["win_rate"][n]["value"] for n in names]
        err = [[v - metrics["win_rate"][n]["ci_low"] for n, v in zip(names, vals)],
               [metrics["win_rate"][n]["ci_high"] - v for n, v in zip(names, vals)]]
        fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(names), 3.2))
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], vals, 0.4, yerr=err, capsize=4, label="this run (95% CI)")
        ax.bar([i + 0.2 for i in x], [PAPER["win_rate"].get(n, float("nan")) for n in names], 0.4, label="paper")
        ax.axhline(0.5, color="gray", lw=0.8, ls="--")
        ax.set_xticks(list(x), [n.replace("_", " ") for n in names])
        ax.set(ylim=(0, 1), ylabel="win rate", title="Win rates (Table 1)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(figures / "win_rates.png", dpi=110)
        plt.close(fig)
        made.append("win_rates.png")
    return made


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _ci(d) -> str:
    if not d:
        return "n/a"
    return f"{_pct(d['value'])} [{_pct(d['ci_low'])}, {_pct(d['ci_high'])}], n={d['n']}"


def write_report(run, metrics: dict) -> Path:
    """Write report.md and report.html for the run folder `run` from its `metrics`."""
    run = Path(run)
    figs = plot_curves(run, run / "figures")
    lines = [f"# RLAIF kit: run report ({metrics.get('preset')})", ""]
    lines += ["## Stage timings", "", "| stage | seconds |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in metrics.get("stages", {}).items()]
    if "labeler" in metrics:
        lab = metrics["labeler"]
        lines += ["", "## AI labeler (Sec. 2.1)", "", "| measure | this run | paper |", "| --- | --- | --- |",
                  f"| alignment with held-out human labels | {_ci(lab['alignment_ci'])} | {_pct(PAPER['alignment'])} (PaLM 2 L) |",
                  f"| alignment, high-confidence pairs | {_ci(lab['alignment_high_confidence'])} | |",
                  f"| same position preferred after swap | {lab['same_position_pct']:.1f}% | "
                  + ", ".join(f"{v}% ({k})" for k, v in PAPER["same_position_pct"].items()) + " |"]
        lines.append(f"| position kept after the swap, when kept | {lab.get('position_direction')} | L: first; S, XS: second |")
        for name, val in lab.get("baselines", {}).items():
            lines.append(f"| baseline: {name} | {_ci(val) if isinstance(val, dict) else _pct(val)} | |")
        if lab.get("techniques"):
            lines += ["", "### Prompt techniques (Table 2; `paper` = PaLM 2 L alignment %)", "", markdown(lab["techniques"])]
    if "reward_model" in metrics:
        lines += ["", "## Reward models (Table 5)", "", "| reward model | accuracy on held-out human prefs | paper |",
                  "| --- | --- | --- |"]
        for key, label, paper in (("reward_model", "soft AI labels (RLAIF)", PAPER["rm_accuracy"]["ai"]),
                                  ("reward_model_rlhf", "human labels (RLHF)", PAPER["rm_accuracy"]["human"]),
                                  ("reward_model_hard_ai_labels", "hard (argmax) AI labels", None),
                                  ("reward_model_same_size", "same-size labeler's labels", None)):
            rm = metrics.get(key)
            if rm:
                lines.append(f"| {label} | {_ci({'value': rm['accuracy_human'], **rm})} | {_pct(paper) if paper else ''} |")
    if metrics.get("win_rate"):
        lines += ["", "## Win rates (Table 1)", "", "| comparison | this run | length-controlled | paper |",
                  "| --- | --- | --- | --- |"]
        lc = metrics.get("win_rate_length_controlled") or {}
        for name, val in metrics["win_rate"].items():
            paper_lc = PAPER["win_rate_length_controlled"].get(name)
            lines.append(f"| {name.replace('_', ' ')} | {_ci(val)} | {_pct(lc.get(name))} | {_pct(PAPER['win_rate'].get(name))}"
                         + (f" (length-controlled {_pct(paper_lc)})" if paper_lc else "") + " |")
    if metrics.get("gold_score"):
        lines += ["", "## Gold rater score of held-out summaries (toy world)", "", "| policy | mean gold score [95% CI] |",
                  "| --- | --- |"] + [f"| {k} | {v['value']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}] |"
                                     for k, v in metrics["gold_score"].items()]
    summaries = run / "evaluate" / "summaries.jsonl"
    if summaries.exists():
        first = json.loads(summaries.read_text().splitlines()[0])
        lines += ["", "## An example", ""] + [f"- **{k}**: {v}" for k, v in first.items() if k != "id"]
    if figs:
        lines += ["", "## Figures", ""] + [f"![{f}](figures/{f})" for f in figs]
    text = "\n".join(lines) + "\n"
    (run / "report.md").write_text(text)
    _write_html(run / "report.html", text)
    return run / "report.md"


def _write_html(path: Path, markdown: str) -> None:
    """A dependency-free HTML copy of the report: tables, headings, images and list items."""
    import html

    out, in_table = [], False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-", " "}:
                continue
            if not in_table:
                out.append("<table border=1 cellpadding=4>")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("!["):
            out.append(f"<img src=\"{html.escape(line[line.index('(') + 1:-1])}\" style=\"max-width:100%\">")
        elif line.startswith("- "):
            out.append(f"<p>{html.escape(line[2:]).replace('**', '')}</p>")
    if in_table:
        out.append("</table>")
    path.write_text("<html><body style=\"font-family:sans-serif\">\n" + "\n".join(out) + "\n</body></html>\n")
