"""Running under `torchrun` / `accelerate launch`: which process does what.

Past one GPU the kit uses TRL's own stack: `accelerate launch ... -m rlaif_lib.cli run ...` starts
one process per GPU, and TRL's trainers (SFT, reward, RLOO) run data-parallel across them. The
other stages (data, sample, label, evaluate) are not data-parallel: process 0 runs them and the
others wait for the stage's `done.json`. Only process 0 writes artefacts.

The rank comes from the launcher's environment (RANK, WORLD_SIZE), so these helpers work before
any process group exists.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

TRAINING_STAGES = ("sft", "reward", "rl")  # run by every process (TRL trainers, data-parallel)
WAIT_ENV = "RLAIF_WAIT_TIMEOUT"  # seconds a process waits for process 0's stage (default 24 h)


def rank() -> int:
    """This process's global rank (0 when not launched by torchrun/accelerate)."""
    return int(os.environ.get("RANK", 0))


def world_size() -> int:
    """Number of processes the launcher started (1 when not distributed)."""
    return int(os.environ.get("WORLD_SIZE", 1))


def is_main_process() -> bool:
    """True for the one process that writes artefacts (rank 0)."""
    return rank() == 0


def runs_here(stage: str) -> bool:
    """Whether this process runs `stage`: training stages run everywhere, the rest on rank 0 only."""
    return is_main_process() or stage in TRAINING_STAGES


def wait_for(marker) -> dict:
    """Block until process 0 has written the JSON file `marker` (a stage's done.json); return it.
    Polls the file system, so no collective timeout applies while rank 0 labels for an hour."""
    marker = Path(marker)
    timeout_s = float(os.environ.get(WAIT_ENV, 86400))
    print(f"[rank {rank()}] waiting for rank 0 to write {marker}", flush=True)
    start = time.time()
    while not marker.exists():
        if time.time() - start > timeout_s:
            raise TimeoutError(f"rank {rank()}: {marker} did not appear within {timeout_s:.0f} s "
                               f"(raise ${WAIT_ENV}, or check process 0's log)")
        time.sleep(1.0)
    for _ in range(50):  # the file may be mid-write for a moment
        try:
            return json.loads(marker.read_text())
        except ValueError:
            time.sleep(0.1)
    return json.loads(marker.read_text())


def barrier() -> None:
    """Wait for every process (a no-op outside a process group)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
