"""`rlaif`: the command line of the kit.

    rlaif run --preset tiny --out runs/demo      # the whole paper, resumable
    rlaif run --preset micro --out runs/micro --stages data sft
    rlaif run --preset tiny --out runs/demo --force rl # rerun RL and evaluation (e.g. after changing RL settings)
    rlaif run --preset colab --out runs/colab --device cuda       # one GPU (see docs/GPU.md)
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m rlaif_lib.cli run --preset gpu
    rlaif class-merge answers/*.jsonl --out runs/demo/class/answers.jsonl --pairs toy   # the class's labels, merged
    rlaif sweep --preset tiny --out runs/sweep   # labeler quality -> policy quality (sweep.py; simulated labelers)
    rlaif run --preset tiny --out runs/sim78 --labeler simulated:alignment=0.78,same_position=0.18   # a what-if
    rlaif run --preset colab --sft-data tldr.jsonl --comparisons cmp.jsonl --policy my/policy --judge my/judge

Data and models given on the command line are checked before anything heavy loads: a missing file or an
unknown name is refused in about a second.

Bad input (an unknown preset or stage, a missing or malformed data file, a run folder whose
finished stages were made with other settings) ends with one line on stderr that says what is
wrong, and exit code 2; no traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _fail(message: str) -> None:
    print(f"rlaif: error: {message}", file=sys.stderr)
    sys.exit(2)


def _preset(name: str, threads: int | None, **overrides):
    """The preset `name` with `overrides` (an unknown name or field: `_fail`), after setting torch's CPU threads."""
    from .presets import get_preset

    try:
        preset = get_preset(name, **overrides)
    except ValueError as e:
        _fail(str(e))
    if threads:
        import torch

        torch.set_num_threads(threads)
    return preset


def _checked_overrides(args) -> dict:
    """The preset fields `rlaif run`'s data and model options set, each checked now (a missing file or an
    unknown name ends here with one line, before torch or the pipeline loads)."""
    from .data import check_source
    from .method.labeling import simulated
    from .models import check_model

    fields = {"sft_data": args.sft_data, "comparisons": args.comparisons, "base_policy": args.policy,
              "judge": args.judge, "labeler": args.labeler}
    overrides = {k: v for k, v in fields.items() if v is not None}
    try:
        for key, kind in (("sft_data", "sft"), ("comparisons", "comparisons")):
            if key in overrides:
                check_source(overrides[key], kind)
        for key, option in (("base_policy", "--policy"), ("judge", "--judge"), ("labeler", "--labeler")):
            value = overrides.get(key)
            if value is None or (key == "base_policy" and value == "tiny"):
                continue
            simulated.parse(value) if simulated.is_simulated(value) else check_model(value, option)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    return overrides


def main(argv=None) -> None:
    """Entry point of the `rlaif` console script."""
    from .provenance import STAGES

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
    run_p.add_argument("--labeler", default=None, help="override the preset's labeler, e.g. a simulated one "
                       "(toy world, a what-if): simulated:alignment=0.78,same_position=0.18")
    run_p.add_argument("--sft-data", default=None, help="the SFT rows: toy, tldr-500 (500 real TL;DR posts in the "
                       "box), a local .jsonl/.json/.parquet/.csv file or folder, or a hub id (trl-lib/tldr)")
    run_p.add_argument("--comparisons", default=None, help="the human comparisons: toy (pairs sampled from the "
                       "SFT policy, simulated raters), a local file or folder in OpenAI's schema, or a hub id")
    run_p.add_argument("--policy", default=None, help="the base policy SFT starts from: tiny, a local model folder "
                       "or a hub id")
    run_p.add_argument("--judge", default=None, help="the win-rate judge on real data: a local model folder or a hub "
                       "id, larger than and different from the labeler")
    run_p.add_argument("--tables", action="store_true", help="also measure Tables 2 and 14 (prompt techniques, "
                       "self-consistency) in the label stage where the preset leaves them out (tiny: ~5 min more)")
    add_class_merge(sub)
    add_sweep(sub)
    add_overopt(sub)
    add_seeds(sub)
    args = parser.parse_args(argv)
    if args.command == "class-merge":
        return class_merge(args)
    if args.command == "sweep":
        return sweep(args)
    if args.command == "overopt":
        return overopt(args)
    if args.command == "seeds":
        return seeds(args)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from .presets import Preset

    overrides = _checked_overrides(args)
    if args.tables:  # the Preset defaults of Tables 2 and 14
        overrides.update(techniques=Preset().techniques, self_consistency=Preset().self_consistency)
    preset = _preset(args.preset, args.threads, **overrides)
    if args.labeler and args.labeler.startswith("simulated:") and "drlaif" in preset.rl_policies:
        print("simulated labeler: d-RLAIF (the labeler LLM's own 1-10 score) is left out")
        preset = _preset(args.preset, None, labeler=args.labeler,
                         rl_policies=tuple(p for p in preset.rl_policies if p != "drlaif"))
    if args.device:
        os.environ["RLAIF_DEVICE"] = args.device
    from .data import DataError  # the heavy imports (torch, TRL, datasets) come after every check
    from .distributed import is_main_process
    from .pipeline import StageMismatchError, run
    from .report import write_report
    from .run_folder import RunFolder

    try:
        metrics = run(preset, args.out, stages=args.stages or STAGES, force=args.force)
    except (DataError, FileNotFoundError, StageMismatchError) as e:
        _fail(str(e))
    if is_main_process():  # under torchrun/accelerate, rank 0 alone writes the report
        write_report(RunFolder(args.out), metrics)
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
    p.add_argument("--pairs", required=True, metavar="toy|openai-batch13|PATH",
                   help="the pairs the class labelled (classroom.class_pairs); answers on other pairs or texts "
                   "are refused")


def class_merge(args) -> None:
    """Run `rlaif class-merge`: one answer per (student, pair), the latest. A line that cannot be used (not a
    valid answer, an unknown pair, or texts that are not the pair's) is refused, one line on stderr naming its
    file, line and pair, and every other answer is merged: exit 0 with a summary that counts the refused.
    Exit 2 when nothing could be merged (then nothing is written), a file is missing, or --pairs names no pairs."""
    import datasets

    from .classroom import AnswerError, class_pairs, merge_class_files
    from .data import DataError

    datasets.disable_progress_bars()  # stderr carries the refusals, one line each
    try:
        counts = merge_class_files(args.files, args.out, class_pairs(args.pairs))
    except (AnswerError, DataError, FileNotFoundError) as e:
        print(f"rlaif class-merge: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    for refusal in counts["refusals"]:
        print(f"rlaif class-merge: refused {refusal}", file=sys.stderr)
    print(f"merged {counts['rows']} answers from {counts['files']} files into {args.out}: {counts['answers']} answers "
          f"({counts['duplicates']} duplicates dropped), {counts['students']} students, {counts['pairs']} pairs; "
          f"{counts['refused']} refused" + (" (listed above)" if counts["refused"] else ""))


# ----------------------------------------------------------------------------- sweep (sweep.py)
def add_sweep(sub) -> None:
    """The `sweep` subcommand: reward model + RL + evaluation for a ladder of labelers, each a pipeline run."""
    p = sub.add_parser("sweep", help="RM + RL + evaluation for a ladder of labelers (simulated, real, human), "
                       "each a pipeline run in <out>/points/<name> on the base run's stages")
    p.add_argument("--preset", default="tiny", help="tiny (default) or micro (tests); the toy world only")
    p.add_argument("--out", default="runs/sweep", help="sweep folder: sweep.json, sweep.png, points/ (a point "
                   "finished with the same settings is reused, one made with others is rerun)")
    p.add_argument("--base", default=None, help="an existing run folder to reuse (its data, sft, sample, label and "
                   "reward stages, linked into the points); default: <out>/base, made here")
    p.add_argument("--rl-steps", type=int, default=None, help="RL steps per point (default: SweepConfig's, capped at 3x "
                   "the preset's)")
    p.add_argument("--rl-seeds", type=int, nargs="+", default=None, help="RL seeds per point, on the same labels and "
                   "reward models: the first in points/<name>, each further one in points/<name>@seed<s>; a point "
                   "reports their mean and range (default: SweepConfig's)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--workers", type=int, default=2, help="point runs (one RL seed each) trained at once, one "
                   "process and one thread each (default 2: a 2-core laptop)")
    p.add_argument("--commit", action="store_true", help="also save it as the kit's committed tiny sweep "
                   "(rlaif_lib/assets/sweep_tiny.json, what notebook 06 shows before a student runs one)")


def sweep(args) -> None:
    """Run `rlaif sweep`: write <out>/sweep.json and <out>/sweep.png and print the table."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from .experiments.sweep import SweepConfig, run_sweep, sweep_table
    from .provenance import StageMismatchError

    preset = _preset(args.preset, args.threads)
    given = {"rl_steps": args.rl_steps, "rl_seeds": args.rl_seeds and tuple(args.rl_seeds)}
    config = SweepConfig(**{k: v for k, v in given.items() if v is not None})
    try:
        result = run_sweep(preset, args.out, config, base=args.base, workers=args.workers)
    except (ValueError, StageMismatchError) as e:  # e.g. a base run made with other settings
        _fail(str(e))
    if args.commit:
        from .experiments.sweep import COMMITTED, commit

        commit(result)
        print(f"Saved as the committed sweep: {COMMITTED}")
    print(sweep_table(result))
    print(f"\nWrote {args.out}/sweep.json and {args.out}/sweep.png ({result['seconds']['total']:.0f} s)")


# ----------------------------------------------------------------------------- overopt (overoptimization.py)
def add_overopt(sub) -> None:
    """The `overopt` subcommand: RL for several times the usual steps, with and without the KL penalty."""
    p = sub.add_parser("overopt", help="reward-model over-optimization: RL against a run's reward model for many "
                       "steps at two KL coefficients, watching the gold score (toy world)")
    p.add_argument("--preset", default="tiny", help="tiny (default) or micro (tests); the toy world only")
    p.add_argument("--base", default="runs/demo", help="a run folder with a finished reward stage (default runs/demo)")
    p.add_argument("--out", default=None, help="where the policies and overoptimization.json go (default <base>/overopt)")
    p.add_argument("--steps", type=int, default=None, help="RL steps per beta (default: OveroptConfig's)")
    p.add_argument("--betas", type=float, nargs="+", default=None, help="KL coefficients (default: OveroptConfig's)")
    p.add_argument("--policy", choices=("rlhf", "rlaif"), default=None, help="whose reward model (default rlhf)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--commit", action="store_true", help="also save it as the kit's committed tiny result "
                   "(rlaif_lib/assets/overoptimization_tiny.json, what notebook 04 shows)")


def overopt(args) -> None:
    """Run `rlaif overopt`: write <out>/overoptimization.json and .png and print what they show."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from .experiments.overoptimization import (
        OveroptConfig,
        commit,
        plot_overoptimization,
        reading_text,
        run_overoptimization,
    )

    preset = _preset(args.preset, args.threads)
    given = {"steps": args.steps, "betas": args.betas and tuple(args.betas), "policy": args.policy}
    config = OveroptConfig(**{k: v for k, v in given.items() if v is not None})
    out = Path(args.out or Path(args.base) / "overopt")
    try:
        result = run_overoptimization(preset, args.base, out, config)
    except ValueError as e:
        _fail(str(e))
    plot_overoptimization(result).savefig(out / "overoptimization.png", dpi=110)
    if args.commit:
        commit(result)
    print(reading_text(result))
    print(f"Wrote {out}/overoptimization.json and .png ({result['seconds']:.0f} s)")



# ----------------------------------------------------------------------------- seeds (seeds.py)
def add_seeds(sub) -> None:
    """The `seeds` subcommand: the whole pipeline under several seeds, and each headline number's spread."""
    p = sub.add_parser("seeds", help="the whole pipeline under N seeds: each headline number's mean and range")
    p.add_argument("--preset", default="tiny", help="a preset name (default tiny)")
    p.add_argument("--n", type=int, default=5, help="number of seeds: 0..N-1 (default 5)")
    p.add_argument("--out", default="runs/seeds", help="folder: seed-<s>/ run folders and seeds.json")
    p.add_argument("--base", default=None, help="an existing run folder of the preset to use as seed 0's (e.g. runs/demo)")
    p.add_argument("--workers", type=int, default=1, help="seeds run at once, one process and one thread each")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--commit", action="store_true", help="also save it as the kit's committed tiny spread "
                   "(rlaif_lib/assets/seeds_tiny.json, what README and the notebooks show)")


def seeds(args) -> None:
    """Run `rlaif seeds`: write <out>/seeds.json and print the spread."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from .experiments.seeds import commit, run_seeds

    if args.n < 2:
        _fail(f"--n must be at least 2 (a spread needs two seeds), got {args.n}")
    preset = _preset(args.preset, args.threads)
    result = run_seeds(preset, args.out, seeds=tuple(range(args.n)), base=args.base, workers=args.workers)
    if args.commit:
        commit(result)
    for name, s in result["spread"].items():
        print(f"{name:42s} mean {s['mean']:.3f}  range {s['min']:.3f} to {s['max']:.3f}  ({s['n']} seeds)")
    print(f"Wrote {args.out}/seeds.json ({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
