"""Past one GPU the kit uses TRL's own stack. Checked here on what this machine has: the SFT and
reward stages of the `micro` pipeline as TWO CPU processes (torchrun, gloo). `accelerate launch
--cpu --num_processes 2` (and a MULTI_CPU accelerate config) start ONE process on this machine,
so the test uses torchrun, and asserts that the trainers really saw a world size of 2."""
import json
import os
import subprocess
import sys
from pathlib import Path

from rlaif_lib.run_folder import read_jsonl


def test_sft_and_reward_train_on_two_cpu_processes(tiny_lm, tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", RLAIF_DEVICE="cpu", TOKENIZERS_PARALLELISM="false")
    env.pop("RLAIF_RUN", None)
    script = Path(__file__).with_name("distributed_micro.py")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_port", "29533", str(script), str(out), tiny_lm],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    seen = json.loads((out / "distributed_seen.json").read_text())
    assert seen["dist_world_size"] == 2 and seen["env_world_size"] == 2 and seen["backend"] == "gloo"
    for model in ("sft", "reward/ai", "reward/human", "reward/ai_hard"):
        info = json.loads((out / model / "run_info.json").read_text())
        assert info["world_size"] == 2, (model, info)  # what the TRL trainer itself saw
        assert info["kind"] == "cpu" and info["trainer_flags"] == {"use_cpu": True, "bf16": False, "fp16": False}
        assert (out / model / "model.safetensors").exists()
    # The same metrics keys as a one-process run: every reward model has its held-out accuracy.
    reward = json.loads((out / "reward" / "done.json").read_text())
    assert set(reward) == {"ai", "human", "ai_hard", "seconds", "cpu_seconds", "provenance"}  # done.json records its provenance
    assert all(set(reward[k]) == {"accuracy_human", "ci_low", "ci_high", "n"} for k in ("ai", "human", "ai_hard"))
    assert {"labeler", "reward_model", "reward_model_rlhf"} <= set(seen["metrics_keys"])
    # Only rank 0 ran the non-training stages and wrote artefacts; rank 1 waited for them.
    logs = proc.stdout + proc.stderr
    for stage in ("data", "sample", "label"):  # one process ran it; rank 1 waited for, or found, its done.json
        assert logs.count(f"[{stage}] running") == 1, stage
        assert (f"[rank 1] waiting for rank 0 to write {out / stage / 'done.json'}" in logs
                or f"[{stage}] done already, skipping ({out / stage / 'done.json'})" in logs), stage
    assert len(read_jsonl(out / "data" / "sft.jsonl")) == 128
    assert logs.count("[sft] running") == 2 and logs.count("[label] running") == 1
