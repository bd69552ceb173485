"""`rlaif`: the command line of the kit.

    rlaif run --preset tiny --out runs/demo      # the whole paper, resumable
    rlaif run --preset micro --out runs/micro --stages data sft
"""
from __future__ import annotations

import argparse
import os


def main(argv=None) -> None:
    """Entry point of the `rlaif` console script."""
    parser = argparse.ArgumentParser(prog="rlaif", description="RLAIF (Lee et al., 2023), end to end.")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run (or resume) the pipeline into a run folder")
    run_p.add_argument("--preset", default="tiny", help="tiny (default, CPU), micro (tests) or colab (GPU)")
    run_p.add_argument("--out", default="runs/demo", help="run folder; completed stages are skipped on a rerun")
    run_p.add_argument("--stages", nargs="*", default=None, help="only these stages (default: all)")
    run_p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # OpenMP threads waiting for work sleep instead of spinning. With the default (spinning), a second
    # thread on a 2-core machine that is also doing anything else made the labeler 4x slower than one
    # thread; with PASSIVE, two threads were faster than one (benchmarks/profile_labeling.py). Must be
    # set before torch loads OpenMP.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from .pipeline import STAGES, run
    from .presets import get_preset

    if args.threads:
        torch.set_num_threads(args.threads)
    metrics = run(get_preset(args.preset), args.out, stages=args.stages or STAGES)
    print(f"\nWrote {args.out}/metrics.json and {args.out}/report.md")
    for key in ("labeler", "reward_model", "reward_model_rlhf", "win_rate"):
        if key in metrics:
            print(f"{key}: {metrics[key]}")


if __name__ == "__main__":
    main()
