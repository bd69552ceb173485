"""`rlaif`: the command line of the kit.

    rlaif run --preset tiny --out runs/demo      # the whole paper, resumable
    rlaif run --preset micro --out runs/micro --stages data sft
    rlaif run --preset tiny --out runs/demo --force rl # rerun RL and evaluation (e.g. after changing RL settings)
    rlaif run --preset colab --out runs/colab --device cuda       # one GPU (see docs/GPU.md)
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m rlaif_lib.cli run --preset gpu
    rlaif class-merge answers/*.jsonl --out runs/demo/class/answers.jsonl   # the class's labels, merged

Bad input (an unknown preset or stage, a missing or malformed data file, a run folder whose
finished stages were made with other settings) ends with one line on stderr that says what is
wrong, and exit code 2; no traceback.
"""
from __future__ import annotations

import argparse
import os
import sys


def _fail(message: str) -> None:
    print(f"rlaif: error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv=None) -> None:
    """Entry point of the `rlaif` console script."""
    from .data import DataError
    from .pipeline import STAGES

    parser = argparse.ArgumentParser(prog="rlaif", description="RLAIF (Lee et al., 2023), end to end.")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run (or resume) the pipeline into a run folder")
    run_p.add_argument("--preset", default="tiny",
                       help="tiny (default, CPU), micro (tests), colab (one T4) or gpu (one A100/H100)")
    run_p.add_argument("--out", default="runs/demo", help="run folder; completed stages are skipped on a rerun")
    run_p.add_argument("--stages", nargs="*", default=None, choices=STAGES, metavar="STAGE",
                       help=f"only these stages (default: all): {' '.join(STAGES)}")
    run_p.add_argument("--force", nargs="*", default=(), choices=STAGES, metavar="STAGE",
                       help="rerun these stages and every stage after them (after a change to the preset)")
    run_p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    run_p.add_argument("--device", default=None,
                       help="auto, cpu, cuda, cuda:N, cuda-fp16 or cuda-bf16 (sets $RLAIF_DEVICE, which wins over "
                       "the preset's `device`; default: CUDA when present)")
    add_class_merge(sub)
    args = parser.parse_args(argv)
    if args.command == "class-merge":
        return class_merge(args)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from .pipeline import StageMismatchError, run
    from .presets import get_preset

    try:
        preset = get_preset(args.preset)
    except ValueError as e:
        _fail(str(e))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.device:
        os.environ["RLAIF_DEVICE"] = args.device
    try:
        metrics = run(preset, args.out, stages=args.stages or STAGES, force=args.force)
    except (DataError, FileNotFoundError, StageMismatchError) as e:
        _fail(str(e))
    print(f"\nWrote {args.out}/metrics.json and {args.out}/report.md")
    for key in ("labeler", "reward_model", "reward_model_rlhf", "win_rate"):
        if key in metrics:
            print(f"{key}: {metrics[key]}")


# ----------------------------------------------------------------------------- class-merge (classroom.py)
def add_class_merge(sub) -> None:
    """The `class-merge` subcommand: merge students' answer files (notebook 02's labeling widget)."""
    p = sub.add_parser("class-merge", help="merge students' labeling answers (JSONL) into one file")
    p.add_argument("files", nargs="+", help="answer files written by notebook 02's labeling widget")
    p.add_argument("--out", required=True, help="merged file, e.g. runs/demo/class/answers.jsonl")


def class_merge(args) -> None:
    """Run `rlaif class-merge`: one answer per (student, pair), the latest; a bad row stops with its file and line."""
    import sys

    from .classroom import AnswerError, merge_class_files

    try:
        counts = merge_class_files(args.files, args.out)
    except AnswerError as e:
        print(f"rlaif class-merge: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"merged {counts['rows']} answers from {counts['files']} files into {args.out}: {counts['answers']} answers "
          f"({counts['duplicates']} duplicates dropped), {counts['students']} students, {counts['pairs']} pairs")
# ----------------------------------------------------------------------------- end of class-merge


if __name__ == "__main__":
    main()
