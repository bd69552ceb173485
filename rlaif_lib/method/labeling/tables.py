"""The paper's labeler measurements, as tables the notebook prints beside the paper's numbers.

- Table 2 (`techniques_table`): alignment by prompt technique: Base / Detailed preamble,
  0/1/2-shot, with and without chain of thought.
- Table 3 (`labeler_size_table`): alignment by labeler (size).
- Table 4 (`position_bias` in metrics.py): same position preferred after the swap.
- Table 14 (`self_consistency_table`): CoT with several sampled rationales, by temperature.

Every row carries its alignment with a bootstrap 95% interval and n, so small samples read as such,
and the paper's number (from `rlaif_lib.paper`) where the paper has one. All labels go through
`label_pairs`, so they share its disk cache and its resume logic.
"""
from __future__ import annotations

from dataclasses import replace

from ... import paper
from ...stats import fmt_pct
from .baselines import embedding_labeler, length_labeler, random_labeler
from .label import label_pairs, select_exemplars
from .metrics import alignment, position_bias
from .prompts import LabelConfig

ALL_TECHNIQUES = tuple((p, k, c) for p in ("base", "detailed") for c in (False, True) for k in (0, 1, 2))


def _row(labels, pairs, **fields) -> dict:
    a = alignment(labels, pairs)
    return {**fields, "alignment": a["value"], "ci_low": a["ci_low"], "ci_high": a["ci_high"], "n": a["n"],
            "same_position_pct": position_bias(labels)["same_position_pct"]}


def techniques_table(pairs, exemplar_pool, labeler, techniques=ALL_TECHNIQUES, base: LabelConfig = LabelConfig(),
                     cache_path=None, seed: int = 0, cot_max_tokens: int | None = None) -> list[dict]:
    """Table 2: one row per (preamble, shots, cot) in `techniques`, labeling `pairs` (with human
    choices) with exemplars drawn from `exemplar_pool` (a training split, never `pairs`).
    `cot_max_tokens`, if given, sets the rationale budget of the CoT rows only (so the other rows
    share cached labels with runs of `base`)."""
    most_shots = max((k for _, k, _ in techniques), default=0)
    exemplars = select_exemplars(exemplar_pool, most_shots, seed=seed) if most_shots else []
    rows = []
    for preamble, shots, cot in techniques:
        config = replace(base, preamble=preamble, shots=shots, cot=cot)
        if cot and cot_max_tokens:
            config = replace(config, cot_max_tokens=cot_max_tokens)
        labels = label_pairs(pairs, labeler, config, exemplars=exemplars[:shots], cache_path=cache_path)
        rows.append(_row(labels, pairs, preamble=preamble, shots=shots, cot=cot,
                         paper=paper.TECHNIQUES.get((preamble, shots, cot))))
    return rows


def self_consistency_table(pairs, labeler, settings=((1, 0.0), (4, 0.3), (4, 0.7), (4, 1.0)),
                           base: LabelConfig = LabelConfig(cot=True), cache_path=None, exemplars=()) -> list[dict]:
    """Table 14: CoT labels averaged over `samples` rationales drawn at `temperature` (top-k 40),
    for each (samples, temperature) in `settings`; (1, 0.0) is greedy CoT. `exemplars`: the
    `base.shots` exemplars, when `base` has any."""
    rows = []
    for samples, temperature in settings:
        config = replace(base, cot=True, self_consistency=samples, temperature=temperature)
        labels = label_pairs(pairs, labeler, config, exemplars=exemplars, cache_path=cache_path)
        in_paper = paper.SELF_CONSISTENCY.get((samples, temperature)) or paper.SELF_CONSISTENCY.get((16, temperature))
        rows.append(_row(labels, pairs, samples=samples, temperature=temperature, paper_16_samples=in_paper))
    return rows


def labeler_size_table(pairs, labelers: dict, config: LabelConfig = LabelConfig(), cache_path=None,
                       exemplars=()) -> list[dict]:
    """Table 3: alignment of each labeler in `labelers` ({display name: preset name, folder or hub id})
    plus the non-LLM baselines (random, longer-wins, MiniLM similarity) on the same pairs, every
    labeler with the same prompt (`config`, and its `exemplars` when it has shots). A labeler
    that does not fit this device (`models.ladder_for_device`) is left out, with a printed line saying
    why; the labelers are loaded one at a time."""
    from ...models import ladder_for_device

    fits, dropped = ladder_for_device([m for m in labelers.values() if isinstance(m, str)])
    for model, why in dropped:
        print(f"Table 3: {model} left out: {why}", flush=True)
    rows = [_row(label_pairs(pairs, model, config, exemplars=exemplars, cache_path=cache_path), pairs, labeler=name)
            for name, model in labelers.items() if not isinstance(model, str) or model in fits]
    return rows + [_row(fn(pairs), pairs, labeler=name) for name, fn in (
        ("random (baseline)", random_labeler), ("longer wins (baseline)", length_labeler),
        ("MiniLM similarity (baseline)", embedding_labeler))]


def markdown_table(header: list, rows: list) -> str:
    """A markdown table: the `header` cells, the rule under them, then one line per row of cells."""
    return "\n".join("| " + " | ".join(map(str, cells)) + " |" for cells in [header, ["---"] * len(header), *rows])


def markdown(rows: list[dict]) -> str:
    """A markdown table of rows; fractions in [0, 1] named alignment/ci_* print as percents."""
    def fmt(k, v):
        if isinstance(v, float):
            return fmt_pct(v, unit="") if k in ("alignment", "ci_low", "ci_high") else f"{v:.1f}"
        return "" if v is None else str(v)

    if not rows:
        return ""
    cols = list(rows[0])
    return markdown_table(cols, [[fmt(k, r[k]) for k in cols] for r in rows])
