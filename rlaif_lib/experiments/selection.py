"""Choosing the labeling configuration honestly (Sec. 2.1, Table 2): on a VALIDATION split.

The paper picked its prompt (Detailed preamble + chain of thought, 0-shot) by alignment on held-out
human labels. Notebook 02's Table 2 rows label 16 test pairs each, so their intervals span 25-50
points and choosing on them would be choosing on noise and on the test labels at once. Here:

1. `validation_pairs`: ~200 human-labelled pairs sampled from the run's SFT policy exactly as the
   `sample` stage samples its pairs, on toy posts of the "label" split beyond the run's
   `n_label_posts` (so disjoint from the reward model's training posts, the test pairs and the
   evaluation posts), labelled by the simulated human raters (a rater stream of their own).
2. `select_configuration`: every (preamble, shots, CoT) setting labels the validation pairs; the
   one with the highest validation alignment wins (ties: fewer shots, no CoT: the cheaper one).
   Exemplars are the label stage's own (`pipeline.label_exemplars`: posts no split uses).
3. The chosen setting is then measured once on the untouched test pairs.

`python -m rlaif_lib.experiments.selection RUN_FOLDER` runs all three on a run that has finished its
`sample` stage and writes the JSON that `rlaif_lib/assets/labeler_selection.json` holds.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, replace
from pathlib import Path

from ..data import load_run_pairs
from ..stats import fmt_ci

ALL_CONFIGS = tuple((p, k, c) for c in (False, True) for p in ("base", "detailed") for k in (0, 1, 2))  # CoT last: slowest
ASSET = Path(__file__).parent.parent / "assets" / "labeler_selection.json"


def validation_pairs(run, preset, n_posts: int = 240, seed_offset: int = 1) -> list[dict]:
    """Human-labelled validation pairs for choosing a labeling configuration: SFT samples on the
    toy posts label-[n_label_posts, n_label_posts + n_posts) of `preset`'s world, read from the run
    folder's `sft/` policy. Cached in `run.validation_pairs`. Flat pair dicts."""
    from .. import data, toy_world
    from ..method.sft import sample_pairs
    from ..run_folder import RunFolder, read_jsonl, write_jsonl

    run = RunFolder(run)
    path = run.validation_pairs
    if path.exists():
        return data.comparisons_to_pairs(read_jsonl(path))
    if preset.comparisons != "toy":
        raise ValueError("validation_pairs samples toy-world posts; on real data use the dataset's own validation split")
    posts = toy_world.generate_posts(preset.n_label_posts + n_posts, "label", seed=preset.seed)[preset.n_label_posts:]
    pairs = sample_pairs(str(run.sft), [toy_world.format_prompt(p) for p in posts], [p.id for p in posts],
                         n_samples=preset.n_samples, temperature=preset.sample_temperature,
                         max_new_tokens=preset.max_new_tokens, seed=preset.seed + seed_offset)
    rows = toy_world.rated_comparisons(posts, pairs, random.Random(f"validation-raters:{preset.seed}"), split="valid2")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, rows)
    return data.comparisons_to_pairs(rows)


def _cost(row: dict) -> tuple:
    return (row["cot"], row["shots"], row["preamble"] != "base")


def choose(rows: list[dict]) -> dict:
    """The row with the highest validation alignment among those measured on the whole validation set
    (the most pairs); ties go to the cheaper setting (no CoT, fewer shots, the shorter Base preamble).
    Rows measured on a subset (CoT, cut for CPU time) are reported, never chosen."""
    if not rows:
        raise ValueError("no configurations were measured")
    full = max(r["n"] for r in rows)
    eligible = [r for r in rows if r["n"] == full]
    best = max(r["alignment"] for r in eligible)
    return min((r for r in eligible if r["alignment"] == best), key=_cost)


def select_configuration(val_pairs: list[dict], exemplar_pool: list[dict], labeler, configs=ALL_CONFIGS,
                         base=None, cache_path=None, seed: int = 0, cot_max_tokens: int | None = None,
                         cot_pairs: int | None = None) -> dict:
    """Table 2 on the validation pairs: one row per (preamble, shots, cot) with alignment, its 95%
    interval, n, same-position %, and seconds; plus the chosen row (`choose`). `cot_pairs`: label the
    chain-of-thought settings on only the first that many validation pairs (CoT decodes a rationale
    per pair and order: far slower on a CPU); such rows are reported but cannot be chosen."""
    from ..method.labeling.prompts import LabelConfig
    from ..method.labeling.tables import techniques_table

    base = base or LabelConfig()
    rows = []
    for setting in configs:
        start = time.time()
        pairs = val_pairs[:cot_pairs] if setting[2] and cot_pairs else val_pairs
        row = techniques_table(pairs, exemplar_pool, labeler, (setting,), base, cache_path=cache_path, seed=seed,
                               cot_max_tokens=cot_max_tokens)[0]
        rows.append({**row, "seconds": round(time.time() - start, 1)})
        print(f"[selection] {setting}: {row['alignment']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}] "
              f"n={row['n']} ({rows[-1]['seconds']} s)", flush=True)
    return {"rows": rows, "chosen": choose(rows)}


def run_selection(run, preset=None, configs=ALL_CONFIGS, n_posts: int = 240, cot_max_tokens: int = 16,
                  cot_pairs: int | None = 60) -> dict:
    """Validation pairs, the configuration table, the chosen setting and its alignment on the run's
    test pairs (measured once, after choosing). Writes `run.selection_result`."""
    from ..method.labeling.baselines import length_labeler
    from ..method.labeling.metrics import alignment
    from ..method.labeling.tables import techniques_table
    from ..presets import get_preset
    from ..run_folder import RunFolder, read_json, write_json

    run = RunFolder(run)
    preset = preset or get_preset(read_json(run.preset)["name"])
    val = validation_pairs(run, preset, n_posts=n_posts)
    test = load_run_pairs(run, "test")
    # the exemplars the label stage would use (a pool of posts no split uses): the most shots any setting asks for
    from ..pipeline import label_exemplars

    shots = max(k for _, k, _ in configs)
    exemplars = label_exemplars(preset, run, shots)
    cache = run.selection_cache
    table = select_configuration(val, exemplars, preset.labeler, configs, preset.label, cache_path=cache,
                                 seed=preset.seed, cot_max_tokens=cot_max_tokens, cot_pairs=cot_pairs)
    chosen = table["chosen"]
    setting = (chosen["preamble"], chosen["shots"], chosen["cot"])
    test_row = techniques_table(test, exemplars, preset.labeler, (setting,), preset.label, cache_path=cache,
                                seed=preset.seed, cot_max_tokens=cot_max_tokens)[0]
    default = replace(preset.label)
    result = {
        "what": "labeling configuration chosen by alignment on a validation split of human-labelled toy pairs; "
                "the chosen one then measured once on the untouched test pairs",
        "labeler": preset.labeler, "preset": preset.name, "seed": preset.seed,
        "validation": {"pairs": len(val), "posts": f"label split, posts {preset.n_label_posts}.."
                       f"{preset.n_label_posts + n_posts - 1} (disjoint from the run's label, test and eval posts)",
                       "sampled_from": "the run's SFT policy, as the sample stage samples"},
        "cot_max_tokens": cot_max_tokens, "cot_pairs": cot_pairs, "base_config": asdict(default),
        "rows": table["rows"], "chosen": {"preamble": setting[0], "shots": setting[1], "cot": setting[2],
                                          "validation_alignment": chosen["alignment"],
                                          "validation_ci": [chosen["ci_low"], chosen["ci_high"]]},
        "test": {k: test_row[k] for k in ("alignment", "ci_low", "ci_high", "n", "same_position_pct")},
        "baselines_validation": {"longer_wins": alignment(length_labeler(val), val)["value"]},
    }
    write_json(run.selection_result, result)
    return result


def load_selection(path=ASSET) -> dict:
    """The committed labeling-configuration measurement (what notebook 02 shows)."""
    return json.loads(Path(path).read_text())


def selection_table(result: dict) -> str:
    """Markdown table of a `run_selection` result: validation rows, the chosen one marked, its test value."""
    lines = ["| preamble | shots | CoT | validation alignment [95% CI], n | same position | s |",
             "| --- | --- | --- | --- | --- | --- |"]
    c = result["chosen"]
    for r in result["rows"]:
        mark = " (chosen)" if (r["preamble"], r["shots"], r["cot"]) == (c["preamble"], c["shots"], c["cot"]) else ""
        lines.append(f"| {r['preamble']}{mark} | {r['shots']} | {'yes' if r['cot'] else 'no'} | "
                     f"{fmt_ci(r, 'alignment')} | {r['same_position_pct']:.0f}% | {r.get('seconds', '')} |")
    t = result["test"]
    lines.append(f"\nChosen on validation: {c['preamble']}, {c['shots']}-shot, CoT {'on' if c['cot'] else 'off'}; "
                 f"on the untouched test pairs: {fmt_ci(t, 'alignment')}.")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder that has finished its sample stage")
    parser.add_argument("--posts", type=int, default=240)
    parser.add_argument("--cot-tokens", type=int, default=16)
    parser.add_argument("--cot-pairs", type=int, default=60, help="CoT settings label only this many validation pairs")
    parser.add_argument("--no-cot", action="store_true", help="skip the chain-of-thought settings")
    parser.add_argument("--out", default=None, help="also copy the result here (e.g. rlaif_lib/assets/labeler_selection.json)")
    args = parser.parse_args()
    configs = tuple(c for c in ALL_CONFIGS if not (args.no_cot and c[2]))
    res = run_selection(args.run, configs=configs, n_posts=args.posts, cot_max_tokens=args.cot_tokens,
                        cot_pairs=args.cot_pairs)
    print(selection_table(res))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1))
