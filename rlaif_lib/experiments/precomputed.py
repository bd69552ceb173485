"""Measurements committed with the kit, for runs that leave them out: Tables 2 and 14 of the `tiny` label stage
(`assets/label_tables_tiny.json`), shown PRECOMPUTED only where a run's labels are the ones they were measured on."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ..presets import with_seed
from ..provenance import provenance
from ..run_folder import read_json, write_json

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# The label stage's inputs that Tables 2 and 14 read besides their own settings: the labeler, its prompt
# configuration (the base of every row, and the exemplars' count) and the seed (which exemplars). Everything
# upstream (the pairs) comes in through the sample-stage fingerprint. The tables' own settings (techniques,
# self_consistency, their pair counts and CoT budget) are not matched: tiny leaves them out of its label stage,
# and the committed file holds the rows they produced.
COMMITTED_TABLES_INPUTS = ("labeler", "label", "seed")


def committed_tables(preset) -> dict | None:
    """Tables 2 and 14 as a preset's label stage once measured them (`rlaif_lib/assets/label_tables_<preset>.json`:
    rows, pairs, date, seconds), for runs that leave them out (`tiny`: they would take ~5 of the demo's minutes).
    `preset`: a Preset or a run's preset.json. None when its preset has no such file, or when its labels would not
    be the ones the tables were measured on: other pairs (another sample-stage fingerprint), another labeler or
    label config (`COMMITTED_TABLES_INPUTS`, recorded as the file's "label_inputs"), or a preset.json too old to
    tell."""
    fields = preset if isinstance(preset, dict) else asdict(with_seed(preset))
    path = ASSETS / f"label_tables_{fields.get('name', '')}.json"
    if not path.exists():
        return None
    try:
        fingerprint = provenance(fields, "sample")["fingerprint"]
        inputs = {k: json.loads(json.dumps(fields[k], default=str)) for k in COMMITTED_TABLES_INPUTS}
    except KeyError:  # an older or hand-made preset.json without every field
        return None
    tables = read_json(path)
    recorded = tables.get("label_inputs") or {}
    return tables if tables.get("sample_fingerprint") == fingerprint and recorded == inputs else None


def commit_tiny(result: dict, path, command: str) -> dict:
    """Save a study measured on `tiny` (the sweep, the seeds, the over-optimization curves) as the kit's committed
    asset at `path`, with a "measured" line: `command`, the date, the wall time (`result["seconds"]`, or its
    "total"), the cores, the machine and the workers. Refuses any other preset: a committed study is shown beside
    tiny runs only."""
    import os
    import platform
    from datetime import date

    if result["preset"] != "tiny":
        raise ValueError(f"only a study of the tiny preset is committed, not one of {result['preset']!r}")
    seconds = result["seconds"]["total"] if isinstance(result["seconds"], dict) else result["seconds"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = f", {result['workers']} workers" if result.get("workers") else ""
    saved = dict(result, measured=f"{command}, {date.today()}, {seconds:.0f} s wall on {cores} CPU cores "
                                  f"({platform.machine()}){workers}")
    write_json(path, saved)
    return saved
