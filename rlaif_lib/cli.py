"""`rlaif`: the command line of the kit.

    rlaif run --preset tiny --out runs/demo      # the whole paper, resumable
    rlaif run --preset micro --out runs/micro --stages data sft
    rlaif class-merge answers/*.jsonl --out runs/demo/class/answers.jsonl   # the class's labels, merged
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
    add_class_merge(sub)
    args = parser.parse_args(argv)
    if args.command == "class-merge":
        return class_merge(args)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
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
