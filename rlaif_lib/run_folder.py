"""The run folder: where every stage's artefacts live, and the one way they are written.

    <run>/preset.json  metrics.json  report.md  report.html  figures/
    <run>/data/      sft.jsonl  rl_prompts.jsonl  eval_prompts.jsonl
    <run>/sft/       the SFT policy, loss_curve.json
    <run>/sample/    comparisons_train.jsonl  comparisons_test.jsonl   (the pairs to label)
    <run>/label/     labels_train.jsonl  labels_test.jsonl  [labels_train_same_size.jsonl]  cache.jsonl
                 techniques.json  self_consistency.json  labeler_size.json   (Tables 2, 14, 3)
    <run>/selection/ validation_pairs.jsonl  labeler_selection.json  cache.jsonl   (optional: experiments/selection.py)
    <run>/reward/<name>/   one reward model per label source (names: rewards.REWARD_MODELS)
    <run>/rl/<policy>/     one RL policy of Table 1, curves.json, provenance.json (the settings it was trained under)
    <run>/evaluate/  summaries.jsonl  [judge_cache.jsonl]
    <run>/<stage>/done.json  the stage's seconds and metrics; a rerun skips the stage

Every stage writes only in its own folder. Every JSON/JSONL file is written atomically (a temp
file, then `os.replace`), so a killed run never leaves half a file behind.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def write_text(path, text: str) -> Path:
    """Write `text` to `path` atomically: to a temp file beside it, then `os.replace`."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def write_json(path, obj, indent: int | None = 1, default=None) -> Path:
    """Write `obj` as JSON, atomically (`write_text`)."""
    return write_text(path, json.dumps(obj, indent=indent, default=default))


def read_json(path):
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def write_jsonl(path, rows) -> Path:
    """Write dict rows as JSON lines, atomically (`write_text`)."""
    return write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def read_jsonl(path) -> list[dict]:
    """Read JSON lines written by `write_jsonl`."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass(frozen=True)
class RunFolder:
    """Typed paths into one run folder. `Path(run)` and `os.fspath(run)` give its root."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    def __fspath__(self) -> str:
        return str(self.root)

    def __str__(self) -> str:
        return str(self.root)

    # the run as a whole
    @property
    def preset(self) -> Path:
        return self.root / "preset.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    def stage(self, name: str) -> Path:
        """The folder of stage `name` (one of pipeline.STAGES)."""
        return self.root / name

    def done(self, name: str) -> Path:
        """The marker a finished stage writes: its seconds and metrics."""
        return self.stage(name) / "done.json"

    # data
    @property
    def sft_rows(self) -> Path:
        return self.root / "data" / "sft.jsonl"

    @property
    def rl_prompts(self) -> Path:
        return self.root / "data" / "rl_prompts.jsonl"

    @property
    def eval_prompts(self) -> Path:
        return self.root / "data" / "eval_prompts.jsonl"

    # sft
    @property
    def sft(self) -> Path:
        return self.root / "sft"

    @property
    def sft_loss(self) -> Path:
        return self.sft / "loss_curve.json"

    # sample
    def comparisons(self, split: str) -> Path:
        """The pairs to label, in the comparisons schema; `split` is "train" or "test"."""
        return self.root / "sample" / f"comparisons_{split}.jsonl"

    # label
    def labels(self, name: str) -> Path:
        """AI labels: name "train", "test" or "train_same_size"."""
        return self.root / "label" / f"labels_{name}.jsonl"

    @property
    def label_cache(self) -> Path:
        return self.root / "label" / "cache.jsonl"

    # choosing the labeling configuration (experiments/selection.py): a validation split of its own
    @property
    def validation_pairs(self) -> Path:
        """Human-labelled validation pairs (comparisons schema), disjoint from train, test and eval posts."""
        return self.root / "selection" / "validation_pairs.jsonl"

    @property
    def selection_cache(self) -> Path:
        return self.root / "selection" / "cache.jsonl"

    @property
    def selection_result(self) -> Path:
        return self.root / "selection" / "labeler_selection.json"

    def label_table(self, name: str) -> Path:
        """A labeler table the label stage computes once for the notebooks: name "techniques"
        (Table 2), "self_consistency" (Table 14) or "labeler_size" (Table 3, with the baselines).
        The same rows are in metrics.json under "labeler"."""
        return self.root / "label" / f"{name}.json"

    # reward
    def reward_model(self, name: str) -> Path:
        """A reward model's folder; `name` is a key of rewards.REWARD_MODELS ("ai", "human", ...)."""
        return self.root / "reward" / name

    def reward_loss(self, name: str) -> Path:
        return self.reward_model(name) / "loss_curve.json"

    # rl
    def rl_policy(self, policy: str) -> Path:
        """An RL policy's folder; `policy` is one of Table 1's ("rlaif", "rlhf", "drlaif", ...)."""
        return self.root / "rl" / policy

    def rl_curves(self, policy: str) -> Path:
        return self.rl_policy(policy) / "curves.json"

    def rl_provenance(self, policy: str) -> Path:
        """The RL-stage fingerprint a policy is trained under, written before its training (curves.json, written
        last, says it finished); the RL stage resumes policy by policy and reuses only those of its fingerprint."""
        return self.rl_policy(policy) / "provenance.json"

    def rl_policies(self) -> list[str]:
        """The RL policies that have finished (their curves.json exists), sorted by name."""
        return sorted(p.name for p in (self.root / "rl").glob("*") if (p / "curves.json").exists())

    # evaluate
    @property
    def summaries(self) -> Path:
        return self.root / "evaluate" / "summaries.jsonl"

    @property
    def judge_cache(self) -> Path:
        return self.root / "evaluate" / "judge_cache.jsonl"
