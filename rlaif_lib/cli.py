"""`rlaif`: the command line of the kit.

    rlaif run --preset tiny --out runs/demo      # the whole paper, resumable
    rlaif run --preset micro --out runs/micro --stages data sft
    rlaif sweep --preset tiny --out runs/sweep   # labeler quality -> policy quality (sweep.py)
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
    run_p.add_argument("--labeler", default=None, help="override the preset's labeler, e.g. a simulated one "
                       "(toy world, a what-if): simulated:alignment=0.78,same_position=0.18")
    sweep_p = sub.add_parser("sweep", help="RM + RL + evaluation for a ladder of labelers (simulated, real, human)")
    sweep_p.add_argument("--preset", default="tiny", help="tiny (default) or micro (tests)")
    sweep_p.add_argument("--out", default="runs/sweep", help="sweep folder: sweep.json, sweep.png, points/")
    sweep_p.add_argument("--base", default=None, help="an existing run folder to reuse (its data, sft, sample and "
                         "label stages); default: <out>/base, made here")
    sweep_p.add_argument("--rl-steps", type=int, default=None, help="RL steps per point (default: SweepConfig's, "
                         "capped at the preset's)")
    sweep_p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from .pipeline import STAGES, run
    from .presets import get_preset

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.command == "sweep":
        from .sweep import SweepConfig, run_sweep, sweep_table

        config = SweepConfig() if args.rl_steps is None else SweepConfig(rl_steps=args.rl_steps)
        result = run_sweep(get_preset(args.preset), args.out, config, base=args.base)
        print(sweep_table(result))
        print(f"\nWrote {args.out}/sweep.json and {args.out}/sweep.png ({result['seconds']['total']:.0f} s)")
        return
    preset = get_preset(args.preset, **({"labeler": args.labeler} if args.labeler else {}))
    if args.labeler and args.labeler.startswith("simulated:") and "drlaif" in preset.rl_policies:
        print("simulated labeler: d-RLAIF (the labeler LLM's own 1-10 score) is left out")
        preset = get_preset(args.preset, labeler=args.labeler,
                            rl_policies=tuple(p for p in preset.rl_policies if p != "drlaif"))
    metrics = run(preset, args.out, stages=args.stages or STAGES)
    print(f"\nWrote {args.out}/metrics.json and {args.out}/report.md")
    for key in ("labeler", "reward_model", "reward_model_rlhf", "win_rate"):
        if key in metrics:
            print(f"{key}: {metrics[key]}")


if __name__ == "__main__":
    main()
