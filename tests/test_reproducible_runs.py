"""Same seed, same numbers; a run killed with kill -9 in the middle of a
stage resumes to the same final metrics; a run of some stages merges into metrics.json.

All on `micro` made smaller (every stage kept: data, SFT, sampling, labeling with SmolLM2, three
reward models, RL for RLAIF, RLHF and d-RLAIF, evaluation). One uninterrupted run from scratch is
the reference; the other runs must match its metrics.json number for number (timings aside).
"""
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from rlaif_lib import pipeline
from rlaif_lib.data import load_run_pairs
from rlaif_lib.presets import get_preset
from rlaif_lib.report import write_report
from rlaif_lib.run_folder import RunFolder, read_json, read_jsonl

ROOT = Path(__file__).resolve().parents[1]


def small(seed: int = 0):
    micro = get_preset("micro")
    return replace(micro, name="micro-small", seed=seed, n_sft=120, n_label_posts=12, n_test_pairs=8, n_rl_prompts=8,
                   n_eval_posts=8, techniques=(), drlaif_steps=1, rl=replace(micro.rl, max_steps=1, batch_size=8),
                   label=replace(micro.label, batch_size=2))  # several label batches, so a kill lands mid-stage


def numbers(metrics: dict) -> dict:
    """metrics.json without the timings."""
    return {k: v for k, v in metrics.items() if k != "stages"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    metrics = pipeline.run(small(), folder)
    write_report(RunFolder(folder), metrics)
    return folder, metrics


def test_same_seed_same_numbers_different_seed_different_samples(reference, tmp_path):
    ref, ref_metrics = reference
    again = pipeline.run(small(), tmp_path / "again")  # from scratch, after another run in this process
    assert json.dumps(numbers(again), sort_keys=True) == json.dumps(numbers(ref_metrics), sort_keys=True)
    assert read_jsonl(RunFolder(ref).comparisons("train")) == read_jsonl(RunFolder(tmp_path / "again").comparisons("train"))
    pipeline.run(small(seed=1), tmp_path / "seed1", stages=["data", "sft", "sample"])
    texts = lambda run: [s["text"] for row in read_jsonl(RunFolder(run).comparisons("train")) for s in row["summaries"]]  # noqa: E731
    assert texts(tmp_path / "seed1") != texts(ref)


def test_high_confidence_means_strength_3_in_the_run_and_its_report(reference):
    """In a run: alignment on high-confidence pairs counts the held-out pairs with human strength
    |confidence - 5| >= 3 whichever summary won, and the report says what the scale means."""
    from rlaif_lib import data

    ref, ref_metrics = reference
    test = load_run_pairs(RunFolder(ref), "test")
    assert all(p["confidence"] in (1, 2, 3, 4) if p["choice"] == 0 else p["confidence"] in (6, 7, 8, 9) for p in test)
    high = [p for p in test if data.preference_strength(p["confidence"]) >= data.HIGH_CONFIDENCE_STRENGTH]
    assert ref_metrics["labeler"]["alignment_high_confidence"]["n"] == len(high)
    assert data.CONFIDENCE_SCALE_NOTE in (ref / "report.md").read_text()


def test_partial_runs_merge_into_metrics_json(reference, tmp_path):
    ref, ref_metrics = reference
    shutil.copytree(ref, tmp_path / "run")
    partial = pipeline.run(small(), tmp_path / "run", stages=["data"])
    assert numbers(partial) == numbers(ref_metrics)  # every finished stage's numbers stay
    assert read_json(tmp_path / "run" / "metrics.json")["win_rate"] == ref_metrics["win_rate"]


def run_and_kill(folder: Path, preset, ready, timeout: float = 900) -> None:
    """Run the pipeline in a child process and kill -9 it as soon as `ready(folder)` holds."""
    script = folder.parent / f"{folder.name}-run.py"
    script.write_text("import pickle, sys\nfrom rlaif_lib import pipeline\n"
                      f"pipeline.run(pickle.loads(bytes.fromhex({pickle.dumps(preset).hex()!r})), {str(folder)!r})\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.time()
    try:
        while not ready(folder):
            assert proc.poll() is None, f"the run ended (code {proc.returncode}) before the moment to kill it"
            assert time.time() - start < timeout, "timed out waiting for the moment to kill the run"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_kill_9_while_labeling_resumes_to_the_same_metrics(reference, tmp_path):
    ref, ref_metrics = reference
    folder = tmp_path / "run"
    shutil.copytree(ref, folder)
    for stage in ("label", "reward", "rl", "evaluate"):
        shutil.rmtree(folder / stage)
    (folder / "metrics.json").unlink()
    run = RunFolder(folder)
    run_and_kill(folder, small(), lambda f: _lines(run.label_cache) >= 1)  # after the first batch of labels
    n_pairs = len(load_run_pairs(run, "train")) + len(load_run_pairs(run, "test"))
    assert not run.done("label").exists() and 1 <= _lines(run.label_cache) < n_pairs  # killed mid-stage
    resumed = pipeline.run(small(), folder)
    assert json.dumps(numbers(resumed), sort_keys=True) == json.dumps(numbers(ref_metrics), sort_keys=True)


def test_kill_9_during_rl_resumes_to_the_same_metrics(reference, tmp_path):
    ref, ref_metrics = reference
    folder = tmp_path / "run"
    shutil.copytree(ref, folder)
    for stage in ("rl", "evaluate"):
        shutil.rmtree(folder / stage)
    (folder / "metrics.json").unlink()
    run = RunFolder(folder)
    # killed as soon as the first policy is finished, while the second one starts
    run_and_kill(folder, small(), lambda f: run.rl_curves("rlaif").exists())
    assert not run.done("rl").exists() and not run.rl_curves("rlhf").exists()
    run.rl_policy("rlhf").mkdir(parents=True, exist_ok=True)
    (run.rl_policy("rlhf") / "config.json").write_text("{}")  # a half-written policy folder must not count as done
    (run.rl_policy("rlhf") / "curves.json.tmp").write_text('{"step": [1')
    assert run.rl_policies() == ["rlaif"]
    resumed = pipeline.run(small(), folder)
    assert json.dumps(numbers(resumed), sort_keys=True) == json.dumps(numbers(ref_metrics), sort_keys=True)
