"""Build the talk from a run folder: `build/slides/talk.html` (one self-contained file) and `talk.pdf`.

    .venv/bin/python slides/build.py                       # runs/demo if it has metrics.json, else examples/run
    .venv/bin/python slides/build.py --run runs/x --out build/x --no-pdf --live-demo skip

`slides/talk.md` is the talk's text with placeholders such as `{{ win_row rlaif_vs_sft }}`. This script
fills every placeholder from the run's `metrics.json` (the kit's numbers) and `rlaif_lib.paper` (the
paper's), writes `talk.md` into the output folder with the run's figures beside it, and calls Marp CLI
(from `slides/node_modules`) to render the HTML (images embedded as data URIs, no CDN) and the PDF
(speaker notes as PDF annotations), plus `talk.notes.txt`.

Every kit number is a `<span class="kit" data-key=...>` and every paper number a `<span class="paper">`,
also listed in `numbers.json`, so `tests/test_slides.py` can check the rendered page against the run.
Each one-line reading of a result (`reading ...`) is produced by a rule from the numbers it reads, never
typed, so it cannot contradict them. A number the run does not have renders as "not measured in this run".
"""
from __future__ import annotations

import argparse
import base64
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rlaif_lib import paper  # noqa: E402

SLIDES = ROOT / "slides"
TEMPLATE = SLIDES / "talk.md"
MARP = SLIDES / "node_modules" / ".bin" / "marp"
DEMO_FALLBACK = SLIDES / "live_demo_output.txt"
MISSING = '<span class="missing">not measured in this run</span>'
FIGURES = ("rl_curves.png", "win_rates.png", "losses.png")
POLICY_NAMES = {"sft": "SFT", "rlaif": "RLAIF", "rlhf": "RLHF", "drlaif": "d-RLAIF",
                "rlaif_same_size": "same-size RLAIF", "reference": "reference TL;DR"}


def default_run() -> Path:
    """`runs/demo` when a demo has finished there, else the committed example run."""
    demo = ROOT / "runs" / "demo"
    return demo if (demo / "metrics.json").exists() else ROOT / "examples" / "run"


# ----------------------------------------------------------------------------- numbers on slides
def lookup(tree, path: str):
    """The value at a dotted path ("win_rate.rlaif_vs_sft.ci_low", list indices as numbers), or None."""
    node = tree
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass
class Deck:
    """What the fillers read (the run) and what they record (every number placed)."""

    run: Path
    metrics: dict
    preset: dict
    sweep: dict | None = None
    sweep_path: Path | None = None
    demo_text: str = ""
    demo_source: str = ""
    numbers: list = field(default_factory=list)
    tables: dict | None = None  # Tables 2 and 14 committed for the run's preset, when its label stage left them out

    def tree(self, source: str):
        """What numbers of `source` are read from: metrics.json, the sweep, or the committed label tables."""
        return {"metrics": self.metrics, "sweep": self.sweep, "tables": self.tables}[source]

    def label_rows(self, key: str) -> tuple[list, str, str]:
        """(rows, source, path prefix) of Table 2 ("techniques") or 14 ("self_consistency"): the run's own, else
        the committed measurement (PRECOMPUTED) of the same preset on the same pairs, else none."""
        rows = lookup(self.metrics, f"labeler.{key}") or []
        if rows or not self.tables:
            return rows, "metrics", f"labeler.{key}"
        return self.tables.get(key) or [], "tables", key

    @property
    def simulated(self) -> bool:
        """True when the kit's 'human' labels and judge are the toy world's simulation."""
        judge = self.metrics.get("judge") or ""  # a dict {"kind": "gold" | "ai", ...}; a string in older runs
        gold = judge.get("kind") == "gold" if isinstance(judge, dict) else judge.startswith("simulated")
        return gold or self.preset.get("comparisons") == "toy"

    # -- one number
    def kit(self, path: str, scale: float = 100, digits: int = 1, unit: str = "%", source: str = "metrics") -> str:
        """A kit number from metrics.json (or sweep.json), as a tagged span; MISSING when absent."""
        tree = self.tree(source)
        value = lookup(tree, path) if tree is not None else None
        if not _finite(value):
            return MISSING
        text = f"{value * scale:.{digits}f}{unit}"
        self.numbers.append({"source": source, "key": path, "value": value, "scale": scale, "text": text})
        return (f'<span class="kit" data-source="{source}" data-key="{html.escape(path)}" '
                f'data-scale="{scale:g}">{text}</span>')

    def paper(self, name: str, key=None, unit: str = "%", digits: int | None = None) -> str:
        """A paper number from rlaif_lib.paper (NAME or NAME[key]), as a tagged span."""
        table = getattr(paper, name)
        value = table if key is None else table[key]
        if digits is None:  # as the paper prints it: percentages with their decimal (78.0), parameters as they are
            digits = 1 if unit == "%" and isinstance(value, float) else None
        text = (f"{value:.{digits}f}" if digits is not None else f"{value:g}") + unit
        attrs = f'data-name="{name}"' + (f' data-index="{html.escape(repr(key))}"' if key is not None else "")
        self.numbers.append({"source": "paper", "name": name, "index": repr(key) if key is not None else None,
                             "value": value, "text": text})
        return f'<span class="paper" {attrs}>{text}</span>'

    def ci(self, path: str, value_key: str = "value", with_n: bool = True, source: str = "metrics") -> str:
        """"54.6% [51.3, 57.9], n=24" for a {value, ci_low, ci_high, n} dict at `path`."""
        tree = self.tree(source)
        d = lookup(tree, path) if tree is not None else None
        if not isinstance(d, dict) or not _finite(d.get(value_key)):
            return MISSING
        out = self.kit(f"{path}.{value_key}", source=source)
        if _finite(d.get("ci_low")) and _finite(d.get("ci_high")):
            out += (f" [{self.kit(f'{path}.ci_low', unit='', source=source)}, "
                    f"{self.kit(f'{path}.ci_high', unit='', source=source)}]")
        if with_n and _finite(d.get("n")):
            out += f", n={self.kit(f'{path}.n', scale=1, digits=0, unit='', source=source)}"
        return out


def interval(d: dict | None, value_key: str = "value"):
    """(value, low, high) of a CI dict, or None."""
    if not isinstance(d, dict) or not all(_finite(d.get(k)) for k in (value_key, "ci_low", "ci_high")):
        return None
    return d[value_key], d["ci_low"], d["ci_high"]


def side_of(iv, x: float) -> str:
    """'above', 'below' or 'contains': where the interval lies relative to x."""
    _, lo, hi = iv
    return "above" if lo > x else "below" if hi < x else "contains"


def _reading(claim: str, text: str) -> str:
    return f'<span class="reading" data-claim="{claim}">{text}</span>'


def judge_name(judge) -> str:
    """The judge of metrics.json: a dict {"name", "description", ...}, or a string in older runs."""
    return judge.get("description") or judge.get("name") or "" if isinstance(judge, dict) else str(judge or "")


# ----------------------------------------------------------------------------- fillers
# Each filler takes the deck and the placeholder's arguments and returns markdown. A placeholder
# `{{ name arg1 arg2 }}` in talk.md calls FILLERS[name](deck, "arg1", "arg2").
FILLERS = {}


def filler(fn):
    FILLERS[fn.__name__] = fn
    return fn


@filler
def run_line(d: Deck) -> str:
    """Title-slide line naming the run: preset, labeler, judge, simulated or not."""
    preset = d.metrics.get("preset") or d.preset.get("name") or "unknown"
    where = "examples/run (the committed example)" if d.run.resolve() == (ROOT / "examples" / "run").resolve() else (
        str(d.run.relative_to(ROOT)) if d.run.resolve().is_relative_to(ROOT) else str(d.run))
    sim = ("toy world: simulated human raters and a simulated gold rater" if d.simulated else
           f"real data, judged by {judge_name(d.metrics.get('judge')) or 'the AI labeler'}")
    return (f"Kit numbers: run <code>{html.escape(where)}</code>, preset <b>{html.escape(preset)}</b> "
            f"({sim}); AI labeler <code>{html.escape(str(lookup(d.metrics, 'labeler.name') or 'n/a'))}</code>.")


@filler
def paper_win(d: Deck, name: str) -> str:
    """A win rate from the paper's Table 1."""
    return d.paper("WIN_RATE", name)


@filler
def paper_num(d: Deck, name: str) -> str:
    """A scalar from rlaif_lib.paper (no unit)."""
    return d.paper(name, unit="")


@filler
def paper_range(d: Deck, name: str) -> str:
    """A (low, high) pair from rlaif_lib.paper, as "73-77%"."""
    return f"{d.paper(name, 0, unit='')}-{d.paper(name, 1)}"


@filler
def citation(d: Deck) -> str:
    """The paper's citation, from rlaif_lib.paper."""
    return html.escape(paper.CITATION)


@filler
def sim_badge(d: Deck) -> str:
    """A small badge on every slide that shows kit numbers: where they come from."""
    preset = html.escape(str(d.metrics.get("preset") or d.preset.get("name") or "?"))
    text = (f"kit, preset {preset}: simulated raters (toy world)" if d.simulated else
            f"kit, preset {preset}: real data, AI judge")
    return f'<div class="badge">{text}</div>'


@filler
def run_sizes(d: Deck) -> str:
    """The run's sample sizes from preset.json, as a sentence (or nothing when preset.json is absent)."""
    p = d.preset
    if not p:
        return "The run's preset.json is absent: sample sizes are shown with each interval (n=...)."
    keys = [("n_sft", "SFT examples"), ("n_label_posts", "posts with AI-labelled pairs"),
            ("n_test_pairs", "held-out human-labelled pairs"), ("n_rl_prompts", "RL prompts"),
            ("n_eval_posts", "held-out posts for win rates")]
    parts = [f"{p[k]} {name}" for k, name in keys if _finite(p.get(k))]
    return "Sizes (preset.json): " + ", ".join(parts) + "."


@filler
def human_agreement(d: Deck) -> str:
    """The simulated raters' own agreement beside the paper's human inter-annotator agreement."""
    lo, hi = paper.HUMAN_AGREEMENT
    paper_txt = f"{d.paper('HUMAN_AGREEMENT', 0, unit='')}-{d.paper('HUMAN_AGREEMENT', 1)}"
    kit = d.kit("human_rater_agreement")
    if kit == MISSING:
        return f"Two human raters agree on {paper_txt} of pairs (paper); the run has no rater-agreement measure."
    value = d.metrics["human_rater_agreement"] * 100
    rel = "inside" if lo <= value <= hi else "below" if value < lo else "above"
    return (f"Two <b>simulated</b> raters agree on {kit} of this run's pairs; OpenAI's human raters on "
            f"{paper_txt}: " + _reading(f"agreement-{rel}", f"the simulation is {rel} the human range") + ".")


@filler
def example_prompt(d: Deck) -> str:
    """The paper's labeling prompt for one short toy pair, rendered by the library (raw, Base, 0-shot)."""
    lab = _labeling()
    from rlaif_lib import toy_world

    posts = toy_world.generate_posts(40, split="eval", seed=0)
    post = min(posts, key=lambda p: len(p.title) + len(p.body))
    import random

    worse = toy_world.corrupt_summary(post, "drop_fact", random.Random(0))
    pair = {"id": post.id, "post": f"{post.title}\n{post.body}", "summary_a": post.reference, "summary_b": worse}
    return _code(lab.build_prompt(pair, lab.LabelConfig(preamble="base")), 78)


def _code(text: str, width: int) -> str:
    """A fenced text block with long lines wrapped (Marp would otherwise shrink the whole block)."""
    import textwrap

    lines = [w for line in text.splitlines() for w in (textwrap.wrap(line, width, subsequent_indent="  ",
                                                                     break_on_hyphens=False) or [""])]
    return "```text\n" + "\n".join(lines) + "\n```"


def _labeling():
    try:  # after the library's split (issue 9)
        from rlaif_lib import labeling as lab
    except ImportError:
        from rlaif_lib import labeler as lab
    return lab


@filler
def cot_prompts(d: Deck) -> str:
    """The two chain-of-thought endings, from the library's templates."""
    lab = _labeling()
    instruction = getattr(lab, "COT_INSTRUCTION", None) or lab.prompts.COT_INSTRUCTION
    start = getattr(lab, "RATIONALE_START", None) or lab.prompts.RATIONALE_START
    return _code("# step 1: ask for a rationale (decoded greedily)\n...\nSummary 2 - {b}\n" + instruction.strip()
                 + "\n" + start + "\n\n# step 2: append it, then score \"1\" vs \"2\" as before\n...\n" + start
                 + " {rationale}\n" + lab.ENDING, 96)


@filler
def drlaif_prompt(d: Deck) -> str:
    """d-RLAIF's scoring preamble and ending, from the library's templates."""
    lab = _labeling()
    return _code(f"{lab.DRLAIF_PREAMBLE}\n\nSUBREDDIT: ... TITLE: ... POST: ...\nSUMMARY: ...\n{lab.DRLAIF_ENDING}", 96)


@filler
def position_table(d: Deck) -> str:
    """Table 4 (same position preferred after the swap) beside the kit's labeler."""
    rows = ["| labeler | same position after swap | position kept |", "| --- | --- | --- |"]
    for size, pct in paper.SAME_POSITION.items():
        rows.append(f"| {size} (paper) | {d.paper('SAME_POSITION', size)} | {paper.POSITION_DIRECTION[size]} |")
    name = html.escape(str(lookup(d.metrics, "labeler.name") or "kit labeler"))
    direction = lookup(d.metrics, "labeler.position_direction") or "n/a"
    first = d.kit("labeler.position_bias.first_pct", scale=1)
    rows.append(f"| **{name} (kit)** | **{d.kit('labeler.same_position_pct', scale=1)}** | {direction}"
                + (f" ({first} of kept pairs first)" if first != MISSING else "") + " |")
    return "\n".join(rows)


@filler
def position_reading(d: Deck) -> str:
    """Which paper labeler the kit's same-position rate is closest to."""
    kit = lookup(d.metrics, "labeler.same_position_pct")
    if not _finite(kit):
        return "Position bias: " + MISSING + "."
    nearest = min(paper.SAME_POSITION, key=lambda k: abs(paper.SAME_POSITION[k] - kit))
    worse = all(kit > v for v in paper.SAME_POSITION.values())
    tail = ", more position-bound than any PaLM 2 labeler" if worse else ""
    return _reading(f"nearest:{nearest}", f"The kit's labeler keeps the same position on {d.kit('labeler.same_position_pct', scale=1)} "
                    f"of pairs: closest to {nearest} ({d.paper('SAME_POSITION', nearest)}){tail}.")


def _technique_name(row: dict) -> str:
    name = f"{'Detailed' if row.get('preamble') == 'detailed' else 'Base'}"
    name += " + CoT" if row.get("cot") else ""
    return f"{name}, {row.get('shots', 0)}-shot"


@filler
def techniques_table(d: Deck) -> str:
    """Table 2 (paper, PaLM 2 L) beside the kit's `labeler.techniques` rows, union of both."""
    rows, source, at = d.label_rows("techniques")
    kit_by_key = {(r.get("preamble"), r.get("shots"), bool(r.get("cot"))): i for i, r in enumerate(rows)}
    keys = list(paper.TECHNIQUES) + [k for k in kit_by_key if k not in paper.TECHNIQUES]
    out = ["| prompt | paper (PaLM 2 L) | kit alignment [95% CI] | kit same position |", "| --- | --- | --- | --- |"]
    for key in keys:
        i = kit_by_key.get(key)
        label = _technique_name({"preamble": key[0], "shots": key[1], "cot": key[2]})
        p = d.paper("TECHNIQUES", key) if key in paper.TECHNIQUES else "not reported here"
        if i is None:
            out.append(f"| {label} | {p} | {MISSING} | |")
        else:
            out.append(f"| {label} | {p} | {d.ci(f'{at}.{i}', value_key='alignment', source=source)} | "
                       f"{d.kit(f'{at}.{i}.same_position_pct', scale=1, source=source)} |")
    return "\n".join(out) + _precomputed_note(d, source)


def _precomputed_note(d: Deck, source: str) -> str:
    if source != "tables":
        return ""
    return (f'\n\n<span class="note">Kit rows PRECOMPUTED, not this run: the {d.tables.get("preset")} preset\'s label '
            f'stage on the same pairs, {d.tables.get("measured")} (`rlaif run --tables`).</span>')


@filler
def techniques_reading(d: Deck) -> str:
    """Whether the run's technique rows can be ranked at all, from their intervals."""
    rows = [r for r in d.label_rows("techniques")[0] if interval(r, "alignment")]
    if not rows:
        return "Kit: prompting techniques " + MISSING + "."
    lows = max(rows, key=lambda r: r["ci_low"])
    highs = min(rows, key=lambda r: r["ci_high"])
    n = min(r.get("n", 0) for r in rows)
    if lows["ci_low"] <= highs["ci_high"]:
        spread = max(paper.TECHNIQUES.values()) - min(paper.TECHNIQUES.values())
        return _reading("techniques-overlap", f"With n={n} pairs per row every interval overlaps the others: "
                        f"this run cannot rank the prompts (the paper's rows span {spread:.1f} points).")
    return _reading("techniques-separated", f"{_technique_name(lows)} is above {_technique_name(highs)} "
                    f"(intervals do not overlap, n={n} per row).")


@filler
def self_consistency_table(d: Deck) -> str:
    """Table 14 (paper) beside the kit's self-consistency rows when the run measured them."""
    kit, source, at = d.label_rows("self_consistency")
    kit_by = {(r.get("samples"), float(r.get("temperature", -1))): i for i, r in enumerate(kit) if isinstance(r, dict)}
    out = ["| rationales | temperature | paper (PaLM 2 L) | kit alignment [95% CI] |", "| --- | --- | --- | --- |"]
    for (k, t) in paper.SELF_CONSISTENCY:
        out.append(f"| {k} | {t:g} | {d.paper('SELF_CONSISTENCY', (k, t))} | |")
    if kit_by:
        for (k, t), i in kit_by.items():
            out.append(f"| {k} (kit) | {t:g} | | {d.ci(f'{at}.{i}', value_key='alignment', source=source)} |")
    else:
        out.append(f"| kit | | | {MISSING} (`rlaif run --tables` measures it) |")
    return "\n".join(out) + _precomputed_note(d, source)


@filler
def alignment_table(d: Deck) -> str:
    """The kit labeler's alignment beside the non-LLM baselines and the paper's best labeler."""
    name = html.escape(str(lookup(d.metrics, "labeler.name") or "kit labeler"))
    rows = ["| labeler | alignment with (simulated) human choice [95% CI] |" if d.simulated else
            "| labeler | alignment with human choice [95% CI] |", "| --- | --- |",
            f"| **{name}**, all held-out pairs | {d.ci('labeler.alignment_ci')} |",
            f"| {name}, high-confidence pairs | {d.ci('labeler.alignment_high_confidence')} |"]
    for key, label in (("random", "random (baseline)"), ("longer_wins", "longer summary wins (baseline)"),
                       ("minilm_similarity", "MiniLM cosine(post, summary) (baseline)")):
        val = lookup(d.metrics, f"labeler.baselines.{key}")
        cell = d.ci(f"labeler.baselines.{key}") if isinstance(val, dict) else d.kit(f"labeler.baselines.{key}")
        rows.append(f"| {label} | {cell} |")
    rows.append(f"| PaLM 2 L, Detailed + CoT (paper, Table 2) | {d.paper('BEST_ALIGNMENT')} |")
    return "\n".join(rows)


@filler
def alignment_reading(d: Deck) -> str:
    """Is the kit labeler above chance, and does it beat the length heuristic?"""
    iv = interval(lookup(d.metrics, "labeler.alignment_ci"))
    if not iv:
        return "Labeler alignment: " + MISSING + "."
    side = side_of(iv, 0.5)
    word = {"above": "agrees with the raters more often than chance (interval above 50%)",
            "below": "disagrees with the raters more often than chance (interval below 50%)",
            "contains": "is indistinguishable from a coin flip (interval contains 50%)"}[side]
    text = f"The kit's labeler {word}"
    lw = interval(lookup(d.metrics, "labeler.baselines.longer_wins"))
    claim = f"alignment-{side}"
    if lw:
        if iv[1] > lw[2]:
            text += "; it beats the longer-summary heuristic"
            claim += ",beats-length"
        elif iv[2] < lw[1]:
            text += "; the longer-summary heuristic beats it"
            claim += ",loses-length"
        else:
            text += "; it cannot be told apart from the longer-summary heuristic"
            claim += ",ties-length"
    return _reading(claim, text + ".")


@filler
def size_table(d: Deck) -> str:
    """Table 3 (labeler size) with the kit's 135M labeler as one more row."""
    out = ["| labeler | alignment |", "| --- | --- |"]
    out += [f"| {k} (paper) | {d.paper('LABELER_SIZE', k)} |" for k in paper.LABELER_SIZE]
    name = html.escape(str(lookup(d.metrics, "labeler.name") or "kit labeler"))
    out.append(f"| **{name} (kit)** | **{d.ci('labeler.alignment_ci')}** |")
    return "\n".join(out)


@filler
def rm_table(d: Deck) -> str:
    """Table 5 (RM accuracy on held-out human preferences) beside the kit's reward models."""
    judge = "simulated human" if d.simulated else "human"
    out = [f"| reward model trained on | kit: accuracy on held-out {judge} prefs [95% CI] | paper |", "| --- | --- | --- |"]
    for key, label, p in (("reward_model_rlhf", "human labels (RLHF)", "human"), ("reward_model", "soft AI labels (RLAIF)", "ai"),
                          ("reward_model_hard_ai_labels", "hard (argmax) AI labels", None),
                          ("reward_model_same_size", "same-size labeler's labels", None)):
        if key.endswith(("hard_ai_labels", "same_size")) and key not in d.metrics:
            continue
        out.append(f"| {label} | {d.ci(key, value_key='accuracy_human')} | {d.paper('RM_ACCURACY', p) if p else ''} |")
    return "\n".join(out)


@filler
def rm_reading(d: Deck) -> str:
    """Where each reward model's accuracy interval lies relative to chance."""
    parts = []
    for key, label in (("reward_model", "RLAIF's RM"), ("reward_model_rlhf", "RLHF's RM")):
        iv = interval(d.metrics.get(key), "accuracy_human")
        if iv:
            side = side_of(iv, 0.5)
            parts.append(_reading(f"{key}-{side}", f"{label}: " + {"above": "better than chance", "below": "worse than chance",
                                                                   "contains": "not distinguishable from chance"}[side]))
        else:
            parts.append(f"{label}: {MISSING}")
    return "; ".join(parts) + "."


def _win_reading(d: Deck, name: str) -> str:
    a, b = name.split("_vs_")
    iv = interval(lookup(d.metrics, f"win_rate.{name}"))
    if not iv:
        return MISSING
    A, B = POLICY_NAMES.get(a, a), POLICY_NAMES.get(b, b)
    side = side_of(iv, 0.5)
    if side == "above":
        text = f"{A} beats {B}"
    elif side == "below":
        text = f"{A} loses to {B}"
    elif iv[1] == iv[2] == 0.5:
        text = f"{A} and {B} tie on every post"
    else:
        text = f"{A} and {B} are indistinguishable"
    return _reading(f"{name}:{side}", text)


@filler
def win_table(d: Deck) -> str:
    """Table 1 and Table 8: the paper's win rates beside the kit's, each with a generated reading."""
    judge = "simulated human rater" if d.simulated else "AI judge"
    out = [f"| comparison | paper (human raters) | kit ({judge}) [95% CI] | reading |", "| --- | --- | --- | --- |"]
    names = list(paper.WIN_RATE) + [n for n in (d.metrics.get("win_rate") or {}) if n not in paper.WIN_RATE]
    for name in names:
        a, b = name.split("_vs_")
        if name not in (d.metrics.get("win_rate") or {}) and name == "rlaif_same_size_vs_sft":
            kit, reading = MISSING + " (tiny policy has no instruction-tuned sibling)", ""
        else:
            kit, reading = d.ci(f"win_rate.{name}"), _win_reading(d, name)
        label = f"{POLICY_NAMES.get(a, a)} vs {POLICY_NAMES.get(b, b)}"
        p = d.paper("WIN_RATE", name) if name in paper.WIN_RATE else ""
        out.append(f"| {label} | {p} | {kit} | {reading} |")
    return "\n".join(out)


@filler
def win_reading(d: Deck, name: str) -> str:
    """One generated sentence: the kit's win rate `name` against 50%, and the paper's number beside it."""
    iv = interval(lookup(d.metrics, f"win_rate.{name}"))
    if not iv:
        return f"{name.replace('_', ' ')}: {MISSING}."
    tail = {"above": "the interval is above 50%", "below": "the interval is below 50%",
            "contains": "the interval contains 50%"}[side_of(iv, 0.5)]
    text = f"{_win_reading(d, name)}: {d.ci(f'win_rate.{name}', with_n=False)}, {tail}"
    if name in paper.WIN_RATE:
        p = paper.WIN_RATE[name] / 100
        where = "inside" if iv[1] <= p <= iv[2] else "above" if p > iv[2] else "below"
        text += "; the paper's " + d.paper("WIN_RATE", name) + " is " + _reading(f"paper-{where}", f"{where} the kit's interval")
    return text + "."


@filler
def length_table(d: Deck) -> str:
    """Table 8 (length-controlled win rates) beside the kit's logistic-regression version."""
    out = ["| comparison | paper: raw → length-controlled | kit: raw → length-controlled |", "| --- | --- | --- |"]
    for name in paper.WIN_RATE_LENGTH_CONTROLLED:
        a, b = name.split("_vs_")
        out.append(f"| {POLICY_NAMES[a]} vs {POLICY_NAMES[b]} | {d.paper('WIN_RATE', name)} → "
                   f"{d.paper('WIN_RATE_LENGTH_CONTROLLED', name)} | {d.kit(f'win_rate.{name}.value')} → "
                   f"{d.kit(f'win_rate_length_controlled.{name}')} |")
    return "\n".join(out)


@filler
def gold_table(d: Deck) -> str:
    """Mean gold score per policy (toy world only), with intervals."""
    gold = d.metrics.get("gold_score") or {}
    if not gold:
        return "Gold scores exist only in the toy world: " + MISSING + "."
    out = ["| policy | mean gold score (simulated) [95% CI] |", "| --- | --- |"]
    for name in gold:
        g = f"gold_score.{name}"
        out.append(f"| {POLICY_NAMES.get(name, name)} | {d.kit(g + '.value', 1, 3, '')} "
                   f"[{d.kit(g + '.ci_low', 1, 3, '')}, {d.kit(g + '.ci_high', 1, 3, '')}] |")
    return "\n".join(out)


@filler
def gold_reading(d: Deck) -> str:
    """Which policies' gold-score intervals lie above SFT's (rule: no overlap)."""
    gold = d.metrics.get("gold_score") or {}
    sft = interval(gold.get("sft"))
    if not sft:
        return ""
    above = [n for n, v in gold.items() if n not in ("sft", "reference") and interval(v) and v["ci_low"] > sft[2]]
    below = [n for n, v in gold.items() if n not in ("sft", "reference") and interval(v) and v["ci_high"] < sft[1]]
    rest = [n for n in gold if n not in ("sft", "reference", *above, *below)]
    parts = []
    if above:
        parts.append(", ".join(POLICY_NAMES.get(n, n) for n in above) + " clearly above SFT")
    if below:
        parts.append(", ".join(POLICY_NAMES.get(n, n) for n in below) + " clearly below SFT")
    if rest:
        parts.append(", ".join(POLICY_NAMES.get(n, n) for n in rest) + " overlapping SFT's interval")
    claim = ";".join(f"{k}:{','.join(v)}" for k, v in (("above", above), ("below", below), ("overlap", rest)))
    return _reading(claim, "Gold score: " + "; ".join(parts) + ".")


@filler
def rl_table(d: Deck) -> str:
    """The last logged RL step of each policy: its own reward, KL to SFT, gold score of the rollouts."""
    rl = d.metrics.get("rl") or {}
    if not rl:
        return "RL: " + MISSING + "."
    out = ["| policy | RL steps | reward (own) | KL to SFT | gold score of rollouts (simulated) |", "| --- | --- | --- | --- | --- |"]
    for name in rl:
        out.append(f"| {POLICY_NAMES.get(name, name)} | {d.kit(f'rl.{name}.step', 1, 0, '')} | "
                   f"{d.kit(f'rl.{name}.reward', 1, 3, '')} | {d.kit(f'rl.{name}.kl', 1, 4, '')} | "
                   f"{d.kit(f'rl.{name}.gold', 1, 3, '')} |")
    return "\n".join(out)


@filler
def beta_line(d: Deck) -> str:
    """The paper's beta and temperature beside the run's (from preset.json)."""
    kit_beta = lookup(d.preset, "rl.beta")
    kit_t = lookup(d.preset, "rl.temperature")
    k = lookup(d.preset, "rl.num_generations")
    kit = (f"this run (preset.json): β = {kit_beta:g}, T = {kit_t:g}, k = {k} samples per prompt"
           if _finite(kit_beta) and _finite(kit_t) and _finite(k) else "this run's RL settings: not recorded")
    return (f"Paper: β = {d.paper('KL_BETA', unit='')}, rollouts at T = {d.paper('ROLLOUT_TEMPERATURE', unit='')}; "
            + kit + ".")


@filler
def figure(d: Deck, name: str, width: str = "1000") -> str:
    """A run figure (copied beside talk.md), or a note that the run has none."""
    if not (d.run / "figures" / name).exists():
        return f"*Figure `{name}`: {MISSING}.*"
    return f"![w:{width}](figures/{name})"


@filler
def stage_seconds(d: Deck) -> str:
    """The run's stage timings from metrics.json, one line."""
    stages = d.metrics.get("stages") or {}
    if not stages:
        return MISSING
    parts = [f"{k} {d.kit(f'stages.{k}', 1, 0, ' s')}" for k in stages if _finite(stages[k])]
    total = sum(v for v in stages.values() if _finite(v))
    return "Stage times of this run (metrics.json): " + ", ".join(parts) + f"; about {total / 60:.0f} min in all."


@filler
def demo_output(d: Deck) -> str:
    """The live demo's output: captured at build time, or the stored fallback."""
    return _code(d.demo_text.strip(), 104) + "\n\n<small>" + html.escape(d.demo_source) + "</small>"


@filler
def sweep_points(d: Deck) -> str:
    """The labeler-quality sweep (sweep.json, schema-tolerant): a table of its points."""
    points = _sweep_points(d.sweep)
    if not points:
        return MISSING
    base = _sweep_base(d.sweep)
    cols = [k for k, v in points[0].items() if isinstance(v, (str, int, float)) or (isinstance(v, dict) and "value" in v)][:7]
    out = ["| " + " | ".join(c.replace("_", " ") for c in cols) + " |", "|" + " --- |" * len(cols)]
    for i, pt in enumerate(points):
        cells = []
        for c in cols:
            v, path = pt.get(c), f"{base}{i}.{c}"
            if isinstance(v, dict):
                cells.append(d.ci(path, with_n=False, source="sweep"))
            elif _finite(v):
                pct = 0 <= v <= 1 and re.search(r"rate|align|acc|agree", c)
                cells.append(d.kit(path, source="sweep") if pct else d.kit(path, 1, 3, "", source="sweep"))
            else:
                cells.append(html.escape(str(v)))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _sweep_points(sweep) -> list:
    if isinstance(sweep, list):
        return [p for p in sweep if isinstance(p, dict)]
    if isinstance(sweep, dict):
        for key in ("points", "rows", "results", "labelers", "table"):
            if isinstance(sweep.get(key), list):
                return [p for p in sweep[key] if isinstance(p, dict)]
    return []


def _sweep_base(sweep) -> str:
    if isinstance(sweep, dict):
        for key in ("points", "rows", "results", "labelers", "table"):
            if isinstance(sweep.get(key), list):
                return f"{key}."
    return ""


@filler
def sweep_figure(d: Deck) -> str:
    """The sweep's own figure, if one sits beside sweep.json (copied as figures/sweep.png)."""
    return "![w:620](figures/sweep.png)" if d.sweep_path and _sweep_png(d.sweep_path) else ""


def _sweep_png(sweep_path: Path) -> Path | None:
    pngs = sorted(sweep_path.parent.glob("*.png")) + sorted((sweep_path.parent / "figures").glob("*.png"))
    return pngs[0] if pngs else None


# ----------------------------------------------------------------------------- the template
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)((?:\s+[^\s}]+)*)\s*\}\}")
SLIDE_BREAK = re.compile(r"^---\s*$", re.M)


def split_slides(markdown: str) -> tuple[str, list[str]]:
    """(front matter, slides) of a Marp markdown text."""
    parts = SLIDE_BREAK.split(markdown)
    return "---" + parts[1] + "---\n", parts[2:]


def render(template: str, deck: Deck) -> str:
    """Fill the template: drop `<!-- if: NAME -->` slides whose condition is false, fill placeholders
    (inside speaker notes, as plain text without tags), and check that every slide has notes."""
    front, slides = split_slides(template)
    conditions = {"sweep": bool(_sweep_points(deck.sweep))}
    kept = []
    for slide in slides:
        m = re.search(r"<!--\s*if:\s*(\w+)\s*-->\n?", slide)
        if m:
            if not conditions.get(m[1], False):
                continue
            slide = slide.replace(m[0], "")
        kept.append(slide)

    def fill(match, plain=False):
        name, args = match[1], match[2].split()
        if name not in FILLERS:
            raise KeyError(f"{TEMPLATE}: unknown placeholder {{{{ {name} }}}}; known: {sorted(FILLERS)}")
        placed = len(deck.numbers)
        out = FILLERS[name](deck, *args)
        if not plain:
            return out
        del deck.numbers[placed:]  # numbers.json lists what is on the slides, not in the speaker notes
        return html.unescape(re.sub(r"<[^>]+>", "", out))

    filled = []
    for i, slide in enumerate(kept, 1):
        pieces = re.split(r"(<!--(?:(?!-->).)*-->)", slide, flags=re.S)
        out = "".join(PLACEHOLDER.sub(lambda m: fill(m, plain=p.startswith("<!--")), p) for p in pieces)
        notes = [c for c in re.findall(r"<!--((?:(?!-->).)*)-->", out, re.S) if not re.match(r"\s*_?\w+:\s", c)]
        if not notes:
            raise ValueError(f"slide {i} has no speaker notes: {slide.strip()[:80]!r}")
        filled.append(out)
    return front + "\n---\n".join(filled)


def inline_images(markdown: str, folder: Path) -> str:
    """The markdown with every `](figures/x.png)` replaced by a data URI, so the HTML is one file."""
    def data_uri(m):
        path = folder / m[1]
        return "](data:image/png;base64," + base64.b64encode(path.read_bytes()).decode() + ")"
    return re.sub(r"\]\((figures/[^)\s]+\.png)\)", data_uri, markdown)


# ----------------------------------------------------------------------------- live demo
def capture_demo(mode: str, timeout: float) -> tuple[str, str]:
    """(output, where it came from): run slides/live_demo.py now ("auto"), or use the stored output."""
    stored = DEMO_FALLBACK.read_text() if DEMO_FALLBACK.exists() else "(no stored demo output)"
    if mode == "skip":
        return stored, "Stored output of slides/live_demo.py (live_demo_output.txt); not rerun for this build."
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        res = subprocess.run([sys.executable, str(SLIDES / "live_demo.py")], capture_output=True, text=True,
                             timeout=timeout, env=env, cwd=ROOT)
        if res.returncode == 0 and "Debiased label" in res.stdout:
            return res.stdout, f"Captured when this deck was built ({time.strftime('%Y-%m-%d %H:%M')})."
        reason = (res.stderr.strip().splitlines() or ["no output"])[-1]
    except subprocess.TimeoutExpired:
        reason = f"took over {timeout:.0f} s"
    return stored, f"The labeler could not run at build time ({reason[:120]}): stored output shown."


# ----------------------------------------------------------------------------- marp
def chrome_env() -> dict:
    """Environment for Marp's browser: Debian's chromium, no sandbox when root, background networking off."""
    env = dict(os.environ)
    if not env.get("CHROME_PATH"):
        found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if found:
            env["CHROME_PATH"] = found
    if hasattr(os, "getuid") and os.getuid() == 0:
        env.setdefault("CHROME_NO_SANDBOX", "1")
    return env


def marp(args: list[str], env: dict) -> None:
    if not MARP.exists():
        raise FileNotFoundError(f"{MARP} is missing: run `make slides-setup` (npm ci in slides/).")
    res = subprocess.run([str(MARP), "--no-config-file", "--html", "--allow-local-files", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"marp {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")


def build(run: Path, out: Path, pdf: bool = True, live_demo: str = "auto", demo_timeout: float = 90,
          sweep: Path | None = None) -> dict:
    """Build the deck from `run` into `out`; return a summary (paths, sizes, seconds, slide count)."""
    start = time.time()
    run, out = Path(run).resolve(), Path(out).resolve()
    metrics_path = run / "metrics.json"
    if not metrics_path.exists():
        raise FileNotFoundError(f"{metrics_path} not found: point --run at a finished run folder "
                                "(`make demo` writes runs/demo; the committed example is examples/run).")
    try:
        metrics = json.loads(metrics_path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{metrics_path}: not valid JSON ({e})") from None
    preset = json.loads((run / "preset.json").read_text()) if (run / "preset.json").exists() else {}
    if sweep is None:
        sweep = next((p for p in (run / "sweep.json", ROOT / "runs" / "sweep" / "sweep.json") if p.exists()), None)
    sweep_data = json.loads(Path(sweep).read_text()) if sweep else None
    demo_text, demo_source = capture_demo(live_demo, demo_timeout)
    from rlaif_lib.labeling.tables import committed_tables  # Tables 2 and 14 when the run left them out

    deck = Deck(run, metrics, preset, sweep_data, Path(sweep) if sweep else None, demo_text, demo_source,
                tables=committed_tables(preset))

    markdown = render(TEMPLATE.read_text(), deck)
    out.mkdir(parents=True, exist_ok=True)
    figs = out / "figures"
    shutil.rmtree(figs, ignore_errors=True)
    figs.mkdir()
    for name in FIGURES:
        if (run / "figures" / name).exists():
            shutil.copy2(run / "figures" / name, figs / name)
    if deck.sweep_path and _sweep_png(deck.sweep_path):
        shutil.copy2(_sweep_png(deck.sweep_path), figs / "sweep.png")
    (out / "talk.md").write_text(markdown)
    n_slides = len(split_slides(markdown)[1])
    (out / "numbers.json").write_text(json.dumps({"run": str(run), "slides": n_slides, "numbers": deck.numbers}, indent=1))

    inline = out / ".talk.inline.md"
    inline.write_text(inline_images(markdown, out))
    env = chrome_env()
    try:
        marp([str(inline), "--bespoke.progress", "-o", str(out / "talk.html")], env)
        marp([str(inline), "--notes", "-o", str(out / "talk.notes.txt")], env)
        if pdf:
            marp([str(inline), "--pdf", "--pdf-notes", "--pdf-outlines", "-o", str(out / "talk.pdf")], env)
    finally:
        inline.unlink(missing_ok=True)
    summary = {"html": str(out / "talk.html"), "pdf": str(out / "talk.pdf") if pdf else None, "slides": n_slides,
               "html_kb": round((out / "talk.html").stat().st_size / 1024),
               "pdf_kb": round((out / "talk.pdf").stat().st_size / 1024) if pdf else None,
               "numbers": len(deck.numbers), "seconds": round(time.time() - start, 1), "run": str(run),
               "live_demo": demo_source}
    return summary


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Build the RLAIF talk (HTML + PDF) from a run folder.")
    ap.add_argument("--run", type=Path, default=None, help="run folder (default: runs/demo if finished, else examples/run)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    ap.add_argument("--no-pdf", action="store_true", help="HTML only (no browser needed)")
    ap.add_argument("--live-demo", choices=("auto", "skip"), default=os.environ.get("SLIDES_LIVE_DEMO", "auto"),
                    help="auto: run slides/live_demo.py now and show its output; skip: show the stored output")
    ap.add_argument("--demo-timeout", type=float, default=90)
    ap.add_argument("--sweep", type=Path, default=None, help="sweep.json (default: <run>/sweep.json or runs/sweep/sweep.json)")
    args = ap.parse_args(argv)
    run = args.run or default_run()
    print(f"Building the talk from {run} ...", flush=True)
    summary = build(run, args.out, pdf=not args.no_pdf, live_demo=args.live_demo, demo_timeout=args.demo_timeout,
                    sweep=args.sweep)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
