"""Run by tests/test_distributed.py under `torchrun --nproc_per_node 2`: the `micro` pipeline's stages
up to the reward models, with the training stages (SFT, reward) data-parallel on two CPU processes
(gloo). The labeler is the tiny random LM given on the command line (labeling is not what this
checks, and SmolLM2 would make the test minutes long). Rank 0 writes what the processes saw."""
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch.distributed as dist

from rlaif_lib import distributed, pipeline
from rlaif_lib.method.labeling import LabelConfig
from rlaif_lib.presets import get_preset

out, labeler = Path(sys.argv[1]), sys.argv[2]
micro = get_preset("micro")
preset = replace(micro, labeler=labeler, label=LabelConfig(preamble="base", chat_template=False), techniques=(),
                 n_sft=128, n_label_posts=12, n_test_pairs=6, n_samples=3, max_new_tokens=12)
metrics = pipeline.run(preset, out, stages=("data", "sft", "sample", "label", "reward"))
seen = {"rank": distributed.rank(), "env_world_size": distributed.world_size(),
        "dist_initialized": dist.is_initialized(),
        "dist_world_size": dist.get_world_size() if dist.is_initialized() else 1,
        "backend": dist.get_backend() if dist.is_initialized() else None,
        "metrics_keys": sorted(metrics)}
if distributed.is_main_process():
    (out / "distributed_seen.json").write_text(json.dumps(seen))
