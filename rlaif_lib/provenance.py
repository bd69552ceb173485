"""Provenance of a run folder's stages: what each stage read, so a rerun never mixes settings.

A stage's fingerprint hashes the preset fields it reads (STAGE_INPUTS) and the fingerprint of the
stage before it, so it covers everything upstream. `pipeline.run` records it in the stage's
done.json; a finished stage whose recorded fingerprint differs from the current preset's is never
reused: `check_stage` raises StageMismatchError naming the stage and the changed fields.
`clear_stage` empties a stage's folder for `--force` (content-keyed caches stay).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict

from .presets import Preset
from .run_folder import RunFolder, read_json

STAGES = ("data", "sft", "sample", "label", "reward", "rl", "evaluate")
# The preset fields each stage reads (its own; what it reads through earlier stages comes in through
# their fingerprints). The stage configs carry preset.seed, the RL config preset.rl_seed when set (presets.with_seed).
STAGE_INPUTS = {
    "data": ("sft_data", "comparisons", "n_sft", "n_rl_prompts", "n_eval_posts", "n_test_pairs", "n_label_posts",
             "seed"),
    "sft": ("base_policy", "sft"),
    "sample": ("comparisons", "n_label_posts", "n_test_pairs", "n_samples", "sample_temperature", "max_new_tokens",
               "seed"),
    "label": ("labeler", "label", "same_size_labeler", "techniques", "n_technique_pairs", "technique_cot_tokens",
              "self_consistency", "n_self_consistency_pairs", "labeler_ladder", "seed"),
    "reward": ("reward",),
    "rl": ("rl", "rl_policies", "drlaif_steps", "labeler", "label"),
    "evaluate": ("rl_policies", "eval_temperature", "max_new_tokens", "labeler", "label", "judge", "seed"),
}
# Fields no stage reads into an artefact: the preset's name, and where models run (device.py; the same numbers
# up to floating-point noise). `rl_seed` is read as `rl.seed` (with_seed), which the rl stage's `rl` input holds:
# listing it would change every existing rl fingerprint and add nothing. Every other Preset field is some stage's
# input (tests/test_provenance.py).
KEEP_ON_FORCE = ("cache.jsonl", "judge_cache.jsonl")  # content-keyed caches: never stale, kept by --force


class StageMismatchError(RuntimeError):
    """A run folder holds a finished stage made from other inputs than the current preset's."""


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def stage_inputs(preset: Preset | dict, name: str) -> dict:
    """The preset fields stage `name` reads, as JSON values (`preset`: a Preset or a run's preset.json)."""
    fields = preset if isinstance(preset, dict) else asdict(preset)
    return {field: _jsonable(fields[field]) for field in STAGE_INPUTS[name]}


def provenance(preset: Preset | dict, name: str) -> dict:
    """{"fingerprint", "inputs", "upstream"} of stage `name` under `preset` (already `with_seed`; or a run's preset.json):
    the fingerprint is a sha256 of the stage's inputs and of the previous stage's fingerprint."""
    i = STAGES.index(name)
    upstream = {STAGES[i - 1]: provenance(preset, STAGES[i - 1])["fingerprint"]} if i else {}
    inputs = stage_inputs(preset, name)
    payload = json.dumps({"stage": name, "inputs": inputs, "upstream": upstream}, sort_keys=True)
    return {"fingerprint": hashlib.sha256(payload.encode()).hexdigest()[:16], "inputs": inputs, "upstream": upstream}


def _changed(old: dict, new: dict) -> list[str]:
    """The inputs that differ, a stage config's fields one by one: "n_sft: 400 -> 1000", "rl.max_steps: 1 -> 2"."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{k}: {json.dumps(a.get(k))} -> {json.dumps(b.get(k))}" for k in sorted(set(a) | set(b))
                    if a.get(k) != b.get(k)]
        elif a != b:
            out.append(f"{key}: {json.dumps(a)} -> {json.dumps(b)}")
    return out


def why_stale(run: RunFolder, name: str, preset: Preset) -> str | None:
    """Why stage `name`, finished in `run`, was made with other inputs than `preset`'s (its recorded
    fingerprint differs), or None when it was made with these."""
    old, new = read_json(run.done(name)).get("provenance"), provenance(preset, name)
    if old and old.get("fingerprint") == new["fingerprint"]:
        return None
    if not old:
        return "its done.json records no inputs (written by an older kit)"
    changed = _changed(old.get("inputs", {}), new["inputs"])
    if changed:
        return "changed preset fields: " + "; ".join(changed)
    return f"an earlier stage ({next(iter(new['upstream']), None)}) was run with other inputs"


def check_stage(run: RunFolder, name: str, preset: Preset) -> None:
    """Raise StageMismatchError if stage `name` is done in `run` with another fingerprint than `preset`'s."""
    why = why_stale(run, name, preset)
    if why:
        raise StageMismatchError(
            f"stage '{name}' in {run} was run with other inputs than this preset's ({why}). Its results would be "
            f"stale: rerun it and everything after it with --force {name} (pipeline.run(..., force=['{name}'])), "
            "or use a new run folder.")


def clear_stage(run: RunFolder, name: str) -> None:
    """Remove a stage's artefacts and done.json (content-keyed caches, KEEP_ON_FORCE, stay)."""
    folder = run.stage(name)
    if not folder.exists():
        return
    for path in folder.iterdir():
        if path.name in KEEP_ON_FORCE:
            continue
        shutil.rmtree(path) if path.is_dir() else path.unlink()
