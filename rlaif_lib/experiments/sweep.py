"""The paper's central claim on a laptop: how labeler quality carries through to the policy.

One SFT policy, one set of candidate pairs (a base run's data / sft / sample stages), and a ladder of
labelers. Each labeler ("point") is a pipeline run of its own (`pipeline.run`, what `rlaif run` runs):
labels -> reward model (Algorithm 2) -> RL (Algorithm 3) -> win rate against SFT under the simulated
human judge (Table 1's measure). sweep.py trains nothing itself: it makes each point's preset, runs the
pipeline and reads the point's files into its row of sweep.json (the win rate against the RLHF point,
which spans two runs, it judges from their summaries with the gold rater).

Points (`SweepConfig`): simulated labelers (SIMULATED, a what-if: method/labeling/simulated.py) at
requested alignments 50% (a coin flip: the control), 55%, PaLM 2 XS's, 70% and PaLM 2 L's, at PaLM 2
L's same-position rate, both orders averaged, and the gold rater itself; the real SmolLM2-135M labels
of the base run; human labels (RLHF: the simulated human raters' labels of the same pairs); a
position-bias panel at PaLM 2 L's alignment with PaLM 2 XS's same-position rate, with and without the
both-order average. The simulated labelers' errors lean the way the base run's real labeler's do
(`resolve_lean`: SmolLM2-135M picks the shorter summary of most toy pairs, so the lean is towards the
shorter one); the "errors" panel repeats PaLM 2 XS's alignment with independent errors, to show what
the lean itself costs.

A point's folder `points/<name>/` is a complete run folder whose first stages are the base run's,
symlinked (`reuse_base_stages`) while their recorded fingerprint is the one the point's preset gives
them: data, sft and sample for a simulated point (its reward stage trains what the pipeline's always
does: on its soft labels, on human labels, on hard labels), also label and reward for the LLM and human
points. Links, not copies or a reuse option of `pipeline.run`: no model is duplicated, the pipeline
stays as it is, and its own provenance check validates the linked stages like any finished stage. A
linked stage is never rerun or cleared in the point (that would empty the base's folder through the
link). The point's own finished stages are reused when their fingerprints match (a finished sweep
reruns in seconds); one made with other settings (RL budget, labeler, seed, evaluation settings) is
rerun with every stage after it, and the sweep says so: sweep.json holds the numbers asked for.

RL seeds (`SweepConfig.rl_seeds`): one RL run says little at these budgets, so each point is trained with
several RL seeds on the same labels and reward models. The first seed runs in `points/<name>/` as above;
each further seed s in `points/<name>@seed<s>/`, a run folder of its own whose preset is the point's with
`rl_seed=s` (`presets.with_seed`: the RL stage's seed alone) and whose data ... reward stages are links to
the first seed's finished ones (`reuse_base_stages` again, on the first seed's folder), so only RL and
evaluation run per further seed. A point's row of sweep.json holds the first seed's numbers under the keys
it always had, each seed's under "seeds" and their mean and range under "seed_spread"; the table, the
figure and the reading use the seed means. A row of an older sweep.json (one RL seed, no "seeds") reads as
one seed: mean = min = max = its value (`seed_spread`).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

from .. import paper
from ..data import load_run_pairs
from ..method.labeling import simulated as sim
from ..method.labeling.tables import markdown_table
from ..provenance import STAGES, StageMismatchError, check_stage, why_stale
from ..readings import versus
from ..run_folder import RunFolder, read_json, read_jsonl, write_json
from ..stats import fmt_ci

BASE_STAGES = ("data", "sft", "sample", "label")
# The RL policy of each kind of point, and the base stages a point cannot run without.
POLICY = {"simulated": "rlaif", "llm": "rlaif", "human": "rlhf"}
REQUIRED = {"simulated": ("data", "sft", "sample"), "llm": BASE_STAGES, "human": BASE_STAGES}
# The stages a point's RL seeds share: a further seed links its first seed's, and runs RL and evaluation itself.
SHARED_BY_SEEDS = STAGES[:STAGES.index("rl")]
# Each seed's numbers in a row's "seeds", and those whose mean and range "seed_spread" holds.
SEED_KEYS = ("win_rate_vs_sft", "gold_score", "mean_words")
SPREAD_KEYS = ("win_rate_vs_sft", "gold_score", "win_rate_vs_rlhf")


@dataclass
class SweepConfig:
    """Which labelers the sweep tries, and the RL budget of each point."""

    # requested alignments of the ladder; 0.5 is a coin-flip labeler, the control for "RL with a reward
    # model that knows nothing": what any RL run gains here without information from the labels
    alignments: tuple = (0.5, 0.55, paper.LABELER_SIZE["PaLM 2 XS"] / 100, 0.70, paper.LABELER_SIZE["PaLM 2 L"] / 100)
    same_position: float = paper.SAME_POSITION["PaLM 2 L"] / 100  # of the ladder's simulated labelers
    # how far the simulated labelers' doubt leans towards the longer summary (k > 0) or the shorter (k < 0)
    # (method/labeling/simulated.py); 0: independent errors; None: the lean of the base run's real labeler
    # (`simulated.length_bias_like` of its labels' longer-summary share). The coin flip never leans.
    length_bias: float | None = None
    # the same alignments again with independent errors (k = 0): what the lean itself costs
    independent: tuple = (paper.LABELER_SIZE["PaLM 2 XS"] / 100,)
    gold: bool = True  # the gold rater itself as a labeler
    llm: bool = True  # the base run's real LLM labels (SmolLM2-135M on `tiny`)
    human: bool = True  # RLHF: the human labels of the same pairs
    # position panel beside the ladder's PaLM 2 L-like point: (alignment, same position, both orders averaged?)
    position_panel: tuple = ((paper.LABELER_SIZE["PaLM 2 L"] / 100, paper.SAME_POSITION["PaLM 2 XS"] / 100, True),
                             (paper.LABELER_SIZE["PaLM 2 L"] / 100, paper.SAME_POSITION["PaLM 2 XS"] / 100, False))
    # RL steps per point, capped at RL_STEPS_CAP times the preset's own (tiny: 30, as its RL stage; far longer
    # RL over-optimises every point's reward model, notebook 04's subject); None: the preset's budget
    rl_steps: int | None = 30
    seed: int = 0  # the simulated labelers' noise seed
    # RL seeds per point (Preset.rl_seed), on the same labels and reward models: the first in points/<name>/,
    # each further one in points/<name>@seed<s>/; a point reports their mean and range
    rl_seeds: tuple = (0, 1, 2)


@dataclass
class Point:
    """One labeler of the sweep. kind: "simulated" | "llm" | "human"."""

    name: str
    kind: str
    labeler: str
    panel: str = "ladder"  # "ladder" (alignment axis) or "position" (the position-bias panel)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}".rstrip("0").rstrip(".")


def sweep_points(config: SweepConfig, preset) -> list[Point]:
    """The sweep's points, in the order of sweep.json's rows (`run_sweep` starts the simulated ones first)."""
    def spec(**labeler):
        return sim.SimulatedLabeler(seed=config.seed, **labeler).spec

    if config.length_bias is None:
        raise ValueError("sweep_points: resolve the length lean first (`resolve_lean`)")

    def lean(alignment):
        return 0.0 if alignment <= 0.5 else config.length_bias

    points = [Point(f"sim-{_pct(a)}", "simulated", spec(alignment=round(a, 4), same_position=config.same_position,
                                                       length_bias=lean(a))) for a in config.alignments]
    if config.length_bias:
        points += [Point(f"sim-{_pct(a)}-independent", "simulated", spec(alignment=round(a, 4),
                                                                         same_position=config.same_position),
                         panel="errors") for a in config.independent]
    if config.gold:
        points.append(Point("sim-gold", "simulated", spec(alignment=None)))
    if config.human:
        points.append(Point("human", "human", "human labels (RLHF)"))
    for a, s, debias in config.position_panel:
        points.append(Point(f"sim-{_pct(a)}-pos{_pct(s)}-{'debiased' if debias else 'one-order'}", "simulated",
                            spec(alignment=round(a, 4), same_position=s, debias=debias, length_bias=lean(a)),
                            panel="position"))
    if config.llm:  # last: its labels (the base run's label stage) are the slowest thing to make
        points.append(Point("llm", "llm", preset.labeler))
    return points


def base_preset(base: RunFolder, preset):
    """The preset the sweep's base run is (to be) made with: `preset` when the base's label stage was
    made with it (e.g. a full run folder), else `preset` without Table 2's techniques (a sweep's own
    base: they cost time and no point uses them). Raises provenance.StageMismatchError when the base's
    finished stages were made with other settings (another preset or seed)."""
    if base.done("label").exists() and not why_stale(base, "label", preset):
        return preset
    lean = replace(preset, techniques=())
    for stage in BASE_STAGES:
        if base.done(stage).exists():
            check_stage(base, stage, lean)
    return lean


def resolve_lean(config: SweepConfig, base: RunFolder) -> tuple[SweepConfig, dict | None]:
    """`config` with its length lean set, and how it was measured: with `length_bias` None, the lean of the base
    run's real labeler (its labels' share of longer-summary picks over all its labelled pairs, matched by
    `simulated.length_bias_like`); else `config` as it is and None."""
    if config.length_bias is not None:
        return config, None
    pairs = load_run_pairs(base, "train") + load_run_pairs(base, "test")
    labels = read_jsonl(base.labels("train")) + read_jsonl(base.labels("test"))
    share = sim.longer_share(labels, pairs)
    k = sim.length_bias_like(share["value"], pairs)
    return replace(config, length_bias=k), {"labeler": read_json(base.done("label")).get("labeler"),
                                            "longer_share": share, "length_bias": k}


RL_STEPS_CAP = 3  # a sweep point trains at most this many times the preset's RL steps (micro: 6)


def rl_steps(config: SweepConfig, preset) -> int:
    """RL steps per point: the sweep's budget, capped at RL_STEPS_CAP times the preset's."""
    return min(config.rl_steps, RL_STEPS_CAP * preset.rl.max_steps) if config.rl_steps else preset.rl.max_steps


# ---------------------------------------------------------------------------------------------
def point_preset(point: Point, preset, config: SweepConfig, rl_seed: int | None = None):
    """The preset of a point's pipeline run: the base run's `preset` with the point's labeler (a simulated
    point; no same-size labeler beside it), its one RL policy (RLAIF, or RLHF for the human point), the
    sweep's RL budget and the RL seed `rl_seed` (None: the sweep's first, `config.rl_seeds[0]`). The LLM and
    human points keep the base's labeler (and so its label and reward stages)."""
    from ..presets import with_seed

    changes = {"rl_policies": (POLICY[point.kind],), "rl": replace(preset.rl, max_steps=rl_steps(config, preset)),
               "rl_seed": config.rl_seeds[0] if rl_seed is None else rl_seed}
    if point.kind == "simulated":
        changes.update(labeler=point.labeler, same_size_labeler=None)
    return with_seed(replace(preset, **changes))


def seed_folder(points: Path, name: str, rl_seed: int, config: SweepConfig) -> Path:
    """The run folder of a point's RL seed under the sweep's `points` folder: `<name>` for the first seed,
    `<name>@seed<s>` for a further one."""
    return Path(points) / (name if rl_seed == config.rl_seeds[0] else f"{name}@seed{rl_seed}")


def _link(src: Path, dst: Path) -> None:
    """Make `dst` a relative symlink to the folder `src` resolved (never to a link: a point's further seed
    links the base's folder itself where its first seed holds a link to it), replacing whatever `dst` was
    (a symlink is removed, never followed)."""
    if dst.is_symlink():
        dst.unlink()
    elif dst.exists():  # the point's own run of a stage the base has finished with the same fingerprint
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.symlink_to(os.path.relpath(src.resolve(), dst.parent.resolve()), target_is_directory=True)


def reuse_base_stages(base: RunFolder, run: RunFolder, preset, required=(), last: str | None = None) -> list[str]:
    """Link the finished stages of `base` (the sweep's base run, or a point's first-seed run folder) into the
    point's run folder `run`, in pipeline order, while each one's recorded fingerprint is the one `preset`
    (the point's) gives it, and none after the stage `last` (None: any); return the linked stages. Links of
    later stages (left from other settings) are removed: the pipeline runs those in the point's own folders.
    Raises StageMismatchError, naming the stage, when a stage of `required` is not finished in `base`, or
    was made there with other settings."""
    linked = []
    for stage in STAGES[:STAGES.index(last) + 1] if last else STAGES:
        if not base.done(stage).exists() or why_stale(base, stage, preset):
            break
        _link(base.stage(stage), run.stage(stage))
        linked.append(stage)
    for stage in STAGES[len(linked):]:
        if run.stage(stage).is_symlink():
            run.stage(stage).unlink()
    missing = next((stage for stage in required if stage not in linked), None)
    if missing:
        if base.done(missing).exists():
            check_stage(base, missing, preset)  # raises, naming the changed fields
        raise StageMismatchError(f"sweep point {run}: the run {base} it reuses has no finished '{missing}' stage "
                                 "made with this preset's settings; run it there first "
                                 f"(rlaif run --stages ... {missing})")
    return linked


def run_point(point: Point, base, folder, preset, config: SweepConfig = SweepConfig(), log=None,
              rl_seed: int | None = None) -> dict:
    """One point as a pipeline run in `folder`, on the base run `base` (made with `preset`), with the RL
    seed `rl_seed` (None: `config.rl_seeds[0]`): link the base's stages (`reuse_base_stages`), rerun the
    point's own stages made with other settings, run the rest; return the point's row of sweep.json for
    this seed (`point_row`). `log`: a file the pipeline's own output goes to (None: here)."""
    base, run = RunFolder(base), RunFolder(folder)
    if (run.root / "result.json").exists() and not run.preset.exists():  # not a run folder: another layout
        print(f"[sweep] {point.name}: {run} is no pipeline run folder; making it again")
        shutil.rmtree(run.root)
    mine = point_preset(point, preset, config, rl_seed)
    return _run_linked(point, run, mine, reuse_base_stages(base, run, mine, REQUIRED[point.kind]), log)


def run_seed(point: Point, first, folder, preset, config: SweepConfig, rl_seed: int, log=None) -> dict:
    """A further RL seed of a point as a pipeline run in `folder`: the point's preset with `rl_seed`, on the
    data ... reward stages of the point's first-seed run folder `first` (linked, finished there: the same
    labels and reward models), its own RL and evaluation; return its row (`point_row`)."""
    first, run = RunFolder(first), RunFolder(folder)
    mine = point_preset(point, preset, config, rl_seed)
    linked = reuse_base_stages(first, run, mine, SHARED_BY_SEEDS, last=SHARED_BY_SEEDS[-1])
    return _run_linked(point, run, mine, linked, log)


def _run_linked(point: Point, run: RunFolder, mine, linked: list[str], log=None) -> dict:
    """The pipeline run of preset `mine` in `run`, whose `linked` stages are another folder's: its own
    stages made with other settings are rerun (with every stage after them), the missing ones run."""
    from .. import pipeline

    own = [s for s in STAGES if s not in linked]
    stale = next(((s, why) for s in own if run.done(s).exists() and (why := why_stale(run, s, mine))), None)
    if stale:
        print(f"[sweep] {point.name}: '{stale[0]}' was made with other settings ({stale[1]}): rerunning it and every "
              "stage after it", flush=True)
    with contextlib.ExitStack() as output:
        if log:
            stream = output.enter_context(open(log, "a"))
            output.enter_context(contextlib.redirect_stdout(stream))
            output.enter_context(contextlib.redirect_stderr(stream))
        metrics = pipeline.run(mine, run, force=(stale[0],) if stale else ())
    return point_row(point, run, mine, metrics, own)


def human_label_alignment(run: RunFolder, preset) -> dict:
    """The alignment of RLHF's own labels, by the labelers' definition: how often the human label of each of the
    run's pairs agrees with a second, independent simulated rater's choice ({value, ci_low, ci_high, n}). It is
    where the human-label point sits on the alignment axis: the agreement between two raters."""
    import random

    from ..presets import toy_posts
    from ..stats import bootstrap_mean
    from ..toy_world import human_preference

    posts = {**toy_posts(preset, "label"), **toy_posts(preset, "eval")}
    rng = random.Random(f"second-rater:{preset.seed}")
    pairs = load_run_pairs(run, "train") + load_run_pairs(run, "test")
    return bootstrap_mean([human_preference(posts[p["id"]], p["summary_a"], p["summary_b"], rng)[0] == p["choice"]
                           for p in pairs])


def point_row(point: Point, run: RunFolder, preset, metrics: dict, own=STAGES) -> dict:
    """The point's row of sweep.json, read from its finished run: the pipeline's numbers, plus what the
    pipeline does not compute (alignment on all labelled pairs, what the policy writes). `own`: the stages
    the point ran itself (their seconds are the point's)."""
    from ..method.labeling import alignment
    from ..presets import toy_posts
    from .analysis import largest_loss, summary_profile

    policy = POLICY[point.kind]
    if point.kind == "human":
        label = dict.fromkeys(("alignment_test", "same_position_pct", "position_direction"))
        label["alignment_all"] = human_label_alignment(run, preset)
        name = "human labels (simulated raters)"
    else:
        lab = metrics["labeler"]
        pairs = load_run_pairs(run, "train") + load_run_pairs(run, "test")
        labels = read_jsonl(run.labels("train")) + read_jsonl(run.labels("test"))
        label = {"alignment_test": lab["alignment_ci"], "alignment_all": alignment(labels, pairs),
                 "same_position_pct": lab["same_position_pct"], "position_direction": lab["position_direction"]}
        name = lab["name"] if point.kind == "simulated" else f"{lab['name']} (real LLM)"
    rows = read_jsonl(run.summaries)
    posts = toy_posts(preset, "eval")
    post_list, mine = [posts[r["id"]] for r in rows], [r[policy] for r in rows]
    rm = metrics["reward_model_rlhf" if point.kind == "human" else "reward_model"]
    done = {stage: read_json(run.done(stage)) for stage in own}
    return {
        "name": point.name, "kind": point.kind, "panel": point.panel, "labeler": point.labeler, "labeler_name": name,
        "simulated": point.kind == "simulated",
        "requested": asdict(sim.parse(point.labeler)) if point.kind == "simulated" else None,
        **label,
        "rm_accuracy_human": {"value": rm["accuracy_human"], **{k: rm[k] for k in ("ci_low", "ci_high", "n")}},
        "win_rate_vs_sft": metrics["win_rate"][f"{policy}_vs_sft"],
        "gold_score": metrics["gold_score"][policy],
        "mean_words": sum(len(s.split()) for s in mine) / max(len(mine), 1),
        "profile": summary_profile(post_list, mine),  # what the policy writes: age tags, wrong facts, ...
        "largest_loss_vs_sft": largest_loss(post_list, mine, [r["sft"] for r in rows]),  # its worst trade, to read
        "rl_final": {k: v for k, v in metrics["rl"][policy].items() if k != "step"},
        "rl_steps": read_json(run.done("rl"))["provenance"]["inputs"]["rl"]["max_steps"],
        "run": str(run), "reused": [s for s in STAGES if s not in own],
        "seconds": {stage: d["seconds"] for stage, d in done.items()},
        "cpu_seconds": round(sum(d.get("cpu_seconds") or 0 for d in done.values()), 1),
    }


def _run_job(job: tuple, log=None) -> dict:
    """One RL seed of one point: `job` = (point, the folder whose stages it links, its folder, preset,
    config, rl seed, further: a further seed, linking its first seed's folder?)."""
    point, src, folder, preset, config, rl_seed, further = job
    return (run_seed if further else run_point)(point, src, folder, preset, config, rl_seed=rl_seed, log=log)


def _run_job_in_worker(job: tuple) -> dict:
    """`_run_job` in a worker process of its own, one torch thread (what `workers` > 1 runs); the
    pipeline's output goes to the seed's pipeline.log, not between the other workers' lines."""
    import torch

    torch.set_num_threads(1)
    return _run_job(job, log=Path(job[2]) / "pipeline.log")


def seed_spread(row: dict, key: str) -> dict | None:
    """{"mean", "min", "max", "n"} of a point's `key` (one of SPREAD_KEYS) over its RL seeds (its "seeds");
    a row without "seeds" (a sweep.json of one RL seed, made before seeds were recorded) is one seed:
    mean = min = max = its value. None when the point has no such number (RLHF against itself)."""
    values = [s[key]["value"] for s in row["seeds"] if s.get(key)] if "seeds" in row else (
        [row[key]["value"]] if row.get(key) else [])
    if not values:
        return None
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values), "n": len(values)}


def n_rl_seeds(result: dict) -> int:
    """How many RL seeds each point of a sweep was trained with (1 for a sweep.json without "seeds")."""
    return max((len(r.get("seeds") or [r]) for r in result["points"]), default=1)


def _seed_row(runs: list[dict], seeds) -> dict:
    """A point's row of sweep.json from the rows of its RL seeds' runs (`point_row`, in `seeds` order): the
    first seed's row, plus "seeds": each seed's numbers (SEED_KEYS) and run folder."""
    return dict(runs[0], seeds=[{"rl_seed": s, **{k: r[k] for k in SEED_KEYS}, "run": r["run"],
                                 "seconds": r["seconds"]} for s, r in zip(seeds, runs)])


def run_sweep(preset, out, config: SweepConfig = SweepConfig(), base=None, progress: bool = True,
              workers: int = 1) -> dict:
    """The whole sweep: the base run's missing stages (out/base, or the run folder `base`), then every point
    of `sweep_points` with each RL seed of `config.rl_seeds`: the first in out/points/<name>, each further one
    in out/points/<name>@seed<s> (`seed_folder`) on the first's labels and reward models. Writes
    out/sweep.json and out/sweep.png; returns the former's content. `workers` > 1 runs that many seeds at
    once, one process and one torch thread each (2 on a 2-core laptop), while the main process makes the base
    run's LLM labels and reward models; a point's further seeds start when its first seed has finished."""
    from .. import pipeline
    from ..presets import toy_posts, with_seed
    from .analysis import summary_profile

    if preset.comparisons != "toy":
        raise ValueError("the sweep needs the toy world (simulated labelers and the gold judge)")
    seeds = tuple(config.rl_seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"the sweep needs one or more distinct RL seeds (rl_seeds: {seeds})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start, base_seconds = time.time(), 0.0
    base = RunFolder(base or out / "base")
    preset = base_preset(base, with_seed(preset))

    def ensure(stages):  # the base run's stages (the LLM's labels and reward models only when a point needs them)
        nonlocal base_seconds
        if not all(base.done(s).exists() for s in stages):
            t = time.time()
            pipeline.run(preset, base, stages=stages)
            base_seconds += time.time() - t

    lean_source = None
    if config.length_bias is None:  # the simulated labelers lean like the base run's real labeler: its labels first
        ensure(BASE_STAGES)
        config, lean_source = resolve_lean(config, base)
    points = sweep_points(config, preset)
    if not points:
        raise ValueError("the sweep has no points: SweepConfig leaves every labeler out")
    ensure(BASE_STAGES[:3])

    def job(p, s):  # the first seed links the base run's stages, a further one its first seed's folder
        further = s != seeds[0]
        src = seed_folder(out / "points", p.name, seeds[0], config) if further else base.root
        return p, str(src), str(seed_folder(out / "points", p.name, s, config)), preset, config, s, further

    results, total = {}, len(points) * len(seeds)  # (point name, RL seed) -> that run's row

    def finished(p, s, row):
        results[p.name, s] = row
        if progress:
            print(f"[sweep] {len(results)}/{total} {p.name} RL seed {s} done", flush=True)

    # simulated points first: they need no LLM labels, which the main process makes meanwhile (workers > 1)
    order = sorted(points, key=lambda p: p.kind != "simulated")
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            running = {}
            for p in order:
                if p.kind != "simulated":
                    ensure(BASE_STAGES + ("reward",))
                running[pool.submit(_run_job_in_worker, job(p, seeds[0]))] = p, seeds[0]
            while running:  # as seeds finish: a first seed's point has its reward models, its further seeds start
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    p, s = running.pop(future)
                    finished(p, s, future.result())
                    if s == seeds[0]:
                        running.update({pool.submit(_run_job_in_worker, job(p, t)): (p, t) for t in seeds[1:]})
    else:
        for p in order:
            if p.kind != "simulated":
                ensure(BASE_STAGES + ("reward",))
            for s in seeds:
                if progress:
                    print(f"[sweep] {points.index(p) + 1}/{len(points)} {p.name}, RL seed {s}: {p.labeler}", flush=True)
                finished(p, s, _run_job(job(p, s)))
    rows = [_seed_row([results[p.name, s] for s in seeds], seeds) for p in points]
    first = RunFolder(rows[0]["run"])  # every point's evaluate stage has the same SFT summaries: the first's
    sft_rows = read_jsonl(first.summaries)
    posts = toy_posts(preset, "eval")
    post_list = [posts[r["id"]] for r in sft_rows]
    _versus_rlhf(rows, post_list)
    for r in rows:
        r["seed_spread"] = {k: spread for k in SPREAD_KEYS if (spread := seed_spread(r, k))}
    base_seconds = round(base_seconds, 1)
    result = {
        "what": "labeler quality -> reward model -> RL policy, one SFT policy and one set of pairs; "
                "points marked simulated use a SIMULATED labeler (a what-if, calibrated on toy pairs), not an LLM",
        "preset": preset.name, "base": str(base), "config": asdict(config), "length_lean": lean_source,
        "rl_steps": rl_steps(config, preset), "preset_rl_steps": preset.rl.max_steps,
        "judge": "simulated human rater (gold score)", "sft_gold_score": read_json(first.metrics)["gold_score"]["sft"],
        "sft_profile": summary_profile(post_list, [r["sft"] for r in sft_rows]),
        "n_train_pairs": len(load_run_pairs(base, "train")), "n_test_pairs": len(load_run_pairs(base, "test")),
        "workers": workers, "cpu_seconds_points": round(sum(r["cpu_seconds"] for p in points for r in
                                                            (results[p.name, s] for s in seeds)), 1),
        "spearman_alignment_win_rate": spearman_alignment_win_rate(rows),
        "points": rows, "seconds": {"base": base_seconds, "points": round(time.time() - start - base_seconds, 1),
                                    "total": round(time.time() - start, 1)},
        "paper": {"alignment": paper.LABELER_SIZE, "same_position": paper.SAME_POSITION,
                  "win_rate": {k: paper.WIN_RATE[k] for k in ("rlaif_vs_sft", "rlhf_vs_sft")}},
    }
    write_json(out / "sweep.json", result)
    fig = plot_sweep(result)
    fig.savefig(out / "sweep.png", dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return result


def _point(rows: list[dict], kind: str) -> dict | None:
    """The sweep's row of the point of `kind` ("human" or "llm"), or None."""
    return next((r for r in rows if r["kind"] == kind), None)


def _ladder(rows: list[dict]) -> list[dict]:
    """The ladder's simulated points (not the position panel), by measured alignment."""
    return sorted((r for r in rows if r["kind"] == "simulated" and r["panel"] == "ladder"),
                  key=lambda r: r["alignment_all"]["value"])


def _versus_rlhf(rows: list[dict], posts: list) -> None:
    """Add each point's win rate against the RLHF policy (the paper's "RLAIF vs RLHF", 50% = as good),
    judged by the gold rater on both points' summaries of the same evaluation posts (`posts`, in the
    order of every point's summaries.jsonl), when the sweep has the human-label point: each RL seed of a
    point against the RLHF policy of the same seed (the same place in "seeds"), into that seed's entry;
    the first seed's also as the row's "win_rate_vs_rlhf", and the seed-averaged one, with a 95% interval
    over the posts (each post's preference averaged over the seeds), as "win_rate_vs_rlhf_seed_mean"."""
    from ..method.evaluate import gold_preferences, win_rate

    human = _point(rows, "human")
    if human is None:
        return

    def summaries(seed: dict, kind: str) -> list[str]:
        return [x[POLICY[kind]] for x in read_jsonl(RunFolder(seed["run"]).summaries)]

    rlhf = [summaries(seed, "human") for seed in human["seeds"]]
    for r in rows:
        if r["kind"] != "human":
            prefs = [gold_preferences(posts, summaries(seed, r["kind"]), theirs)
                     for seed, theirs in zip(r["seeds"], rlhf)]
            for seed, p in zip(r["seeds"], prefs):
                seed["win_rate_vs_rlhf"] = win_rate(p)
            r["win_rate_vs_rlhf"] = r["seeds"][0]["win_rate_vs_rlhf"]
            r["win_rate_vs_rlhf_seed_mean"] = win_rate(sum(prefs) / len(prefs))  # per post, over the seeds


def spearman_alignment_win_rate(rows: list[dict]) -> float | None:
    """Spearman rank correlation of the ladder's simulated points' alignment (on all labelled pairs) with their
    seed-mean win rate vs SFT; None with fewer than 3 points or when either side is constant."""
    import math

    from .analysis import spearman

    ladder = _ladder(rows)
    if len(ladder) < 3:
        return None
    rho = spearman([r["alignment_all"]["value"] for r in ladder], [seed_spread(r, "win_rate_vs_sft")["mean"]
                                                                    for r in ladder])
    return None if math.isnan(rho) else rho


def _short(r: dict | None) -> dict | None:
    """A point's name, alignment and seed-mean win rates (vs SFT and vs RLHF, each with its seed range), as the
    reading states them; None for no point."""
    if r is None:
        return None
    sft, rlhf = seed_spread(r, "win_rate_vs_sft"), seed_spread(r, "win_rate_vs_rlhf")
    return {"name": r["name"], "alignment": r["alignment_all"]["value"] if r.get("alignment_all") else None,
            "win_rate_vs_sft": sft["mean"], "win_rate_vs_sft_range": [sft["min"], sft["max"]],
            "win_rate_vs_rlhf": rlhf and rlhf["mean"], "win_rate_vs_rlhf_range": rlhf and [rlhf["min"], rlhf["max"]]}


def _seed_ranges_overlap(a: dict, b: dict) -> bool:
    """Whether two `_short` points' seed ranges of win rate vs SFT overlap (readings.versus, the kit's interval
    rule)."""
    return versus(*((p["win_rate_vs_sft"], *p["win_rate_vs_sft_range"]) for p in (a, b))) == "overlap"


def rank_swaps(rows: list[dict]) -> list[dict]:
    """Where the ladder breaks rank: every pair of its simulated points whose seed-mean win rates vs SFT run the
    other way from their measured alignments (the pairs that pull `spearman_alignment_win_rate` below 1), less
    aligned first: {"lower", "higher"} (each {name, alignment and its 95% interval, win_rate_vs_sft, its seed
    range and number of seeds, and the words and unfinished share of its first seed's summaries}), "gap"
    (points of win rate the more aligned one is below), "overlap" (whether their seed ranges overlap; None with
    a single seed) and "alignment_overlap" (whether their alignments' 95% intervals do; None without them)."""
    def point(r):
        prof, a = r.get("profile") or {}, r["alignment_all"]
        return {**_short(r), "alignment_ci": [a.get("ci_low"), a.get("ci_high")],
                "seeds": seed_spread(r, "win_rate_vs_sft")["n"], "words": prof.get("length"),
                "unfinished": prof.get("unfinished")}

    def overlap(lower, higher):
        return None if lower["seeds"] < 2 or higher["seeds"] < 2 else _seed_ranges_overlap(higher, lower)

    def alignment_overlap(lower, higher):
        if None in (*lower["alignment_ci"], *higher["alignment_ci"]):
            return None
        return higher["alignment_ci"][0] <= lower["alignment_ci"][1]

    ladder = [point(r) for r in _ladder(rows)]
    return [{"lower": lower, "higher": higher, "gap": 100 * (lower["win_rate_vs_sft"] - higher["win_rate_vs_sft"]),
             "overlap": overlap(lower, higher), "alignment_overlap": alignment_overlap(lower, higher)}
            for i, lower in enumerate(ladder) for higher in ladder[i + 1:]
            if higher["alignment"] > lower["alignment"] and higher["win_rate_vs_sft"] < lower["win_rate_vs_sft"]]


def _swap_sentence(swap: dict) -> str:
    """One `rank_swaps` entry in words, with what each policy writes (its first RL seed's summaries)."""
    lo, hi = swap["lower"], swap["higher"]
    gap = round(100 * lo["win_rate_vs_sft"], 1) - round(100 * hi["win_rate_vs_sft"], 1)  # of the printed values
    text = (f"{hi['name']} ({hi['alignment']:.1%} aligned): {_mean_range(hi, 'win_rate_vs_sft')}, {gap:.1f} points "
            f"below {lo['name']} ({lo['alignment']:.1%} aligned: {_mean_range(lo, 'win_rate_vs_sft')})")
    seeds, aligned = swap["overlap"], swap["alignment_overlap"]
    if seeds is not None and aligned is not None:
        text += "; " + {(True, True): "their seed ranges overlap, and so do their alignments' 95% intervals",
                        (False, True): "their seed ranges do not overlap, but their alignments' 95% intervals do",
                        (True, False): "their seed ranges overlap, their alignments' 95% intervals do not",
                        (False, False): "neither their seed ranges nor their alignments' 95% intervals overlap",
                        }[seeds, aligned]
    elif seeds is not None:
        text += f"; their seed ranges {'overlap' if seeds else 'do not overlap'}"
    elif aligned is not None:
        text += f"; their alignments' 95% intervals {'overlap' if aligned else 'do not overlap'}"
    if None not in (hi["words"], lo["words"], hi["unfinished"], lo["unfinished"]):
        text += (f". Its first seed's policy writes {hi['words']:.1f} words a summary and leaves "
                 f"{hi['unfinished']:.1%} unfinished (cut off at the token limit); {lo['name']}'s {lo['words']:.1f} "
                 f"and {lo['unfinished']:.1%}")
    return text + "."


def rlhf_on_curve(result: dict) -> dict | None:
    """Where RLHF sits against the simulated ladder: the ladder's seed-mean win rate vs SFT, linearly interpolated
    at the alignment of RLHF's own labels (`human_label_alignment`), the seed range spanned by the two ladder
    points around it, and RLHF's own seed mean. None without a human point with an alignment, or when it lies
    outside the ladder's alignments."""
    human, ladder = _point(result["points"], "human"), _ladder(result["points"])
    if not human or not human.get("alignment_all") or len(ladder) < 2:
        return None
    a = human["alignment_all"]["value"]
    for lo, hi in zip(ladder, ladder[1:]):
        a_lo, a_hi = lo["alignment_all"]["value"], hi["alignment_all"]["value"]
        if a_lo <= a <= a_hi:
            s_lo, s_hi = seed_spread(lo, "win_rate_vs_sft"), seed_spread(hi, "win_rate_vs_sft")
            t = 0.0 if a_hi == a_lo else (a - a_lo) / (a_hi - a_lo)
            return {"alignment": a, "curve": s_lo["mean"] + t * (s_hi["mean"] - s_lo["mean"]),
                    "neighbours": [lo["name"], hi["name"]],
                    "neighbours_range": [min(s_lo["min"], s_hi["min"]), max(s_lo["max"], s_hi["max"])],
                    "rlhf": seed_spread(human, "win_rate_vs_sft")["mean"]}
    return None


def _versus_rlhf_mean(r: dict) -> dict | None:
    """A point's seed-averaged win rate vs RLHF with its 95% interval over posts (one seed: its own)."""
    return r.get("win_rate_vs_rlhf_seed_mean") or r.get("win_rate_vs_rlhf")


def reading(result: dict) -> dict:
    """The sweep's answer in numbers, win rates as means over the RL seeds (with their range): the RLHF point,
    and the lowest-alignment simulated labeler of the ladder (debiased) whose policy cannot be told from
    RLHF's (seed-averaged win rate vs RLHF with a 95% interval over posts that reaches 50%), or None; where
    the real LLM labeler sits; the Spearman rank correlation of the ladder's alignment with its seed-mean win
    rate vs SFT (`spearman_alignment_win_rate`) and over how many points."""
    pts = result["points"]
    reaches = (r for r in _ladder(pts) if _versus_rlhf_mean(r) and _versus_rlhf_mean(r)["ci_high"] >= 0.5)

    def asked(alignment, panel="ladder"):
        return next((r for r in pts if r["kind"] == "simulated" and r["panel"] == panel and r["requested"]
                     and r["requested"]["alignment"] is not None
                     and abs(r["requested"]["alignment"] - alignment) < 1e-9), None)

    xs = paper.LABELER_SIZE["PaLM 2 XS"] / 100
    gold = next((r for r in _ladder(pts) if r["requested"]["alignment"] is None), None)
    return {"rl_seeds": n_rl_seeds(result), "rlhf": _short(_point(pts, "human")),
            "lowest_alignment_matching_rlhf": _short(next(reaches, None)), "llm": _short(_point(pts, "llm")),
            "spearman_alignment_win_rate": spearman_alignment_win_rate(pts), "ladder_points": len(_ladder(pts)),
            "paper_alignment": result["paper"]["alignment"], "length_lean": result.get("length_lean"),
            "coin_flip": _short(asked(0.5)), "gold": _short(gold), "xs": _short(asked(xs)),
            "xs_independent": _short(asked(xs, "errors")), "swaps": rank_swaps(pts)}


def _mean_range(point: dict, key: str) -> str:
    """'61.2% (range 58.3-66.7%)' of a `reading` point's win rate `key` (its seed mean and range); one seed: '61.2%'."""
    value, (low, high) = point[key], point[f"{key}_range"]
    return f"{value:.1%}" if low == high == value else f"{value:.1%} (range {100 * low:.1f}-{high:.1%})"


def reading_text(result: dict) -> str:
    """`reading` in sentences, every number from the sweep (for the notebook and the report)."""
    r, out = reading(result), []
    n = r["rl_seeds"]
    out.append(f"Win rates are means over {n} RL seeds per point." if n > 1 else "Each point is one RL run (one seed).")
    if r["rlhf"]:
        out.append("The simulated judge prefers the RLHF policy (human labels: the toy world's simulated raters) to "
                   f"SFT's {_mean_range(r['rlhf'], 'win_rate_vs_sft')} of the time.")
    on = rlhf_on_curve(result)
    if on:
        low, high = on["neighbours_range"]
        where = ("inside" if low <= on["rlhf"] <= high else "above" if on["rlhf"] > high else "below")
        out.append(f"Its labels agree with a second simulated rater on {on['alignment']:.1%} of the pairs; at that "
                   f"alignment the simulated ladder gives {on['curve']:.1%} (between {on['neighbours'][0]} and "
                   f"{on['neighbours'][1]}, whose seeds span {100 * low:.1f}-{high:.1%}), and RLHF's "
                   f"{on['rlhf']:.1%} lies {where} that span.")
    m = r["lowest_alignment_matching_rlhf"]
    if m:
        out.append(f"The least aligned simulated labeler whose RLAIF policy cannot be told from RLHF's (win rate vs "
                   f"RLHF {_mean_range(m, 'win_rate_vs_rlhf')}, its 95% interval reaching 50%) is {m['name']}, "
                   f"measured at {m['alignment']:.1%} alignment on this run's pairs; its policy is preferred to "
                   f"SFT's {_mean_range(m, 'win_rate_vs_sft')} of the time.")
    elif r["rlhf"]:
        out.append("No simulated labeler of the ladder reaches RLHF here (the 95% interval of each one's "
                   f"{'seed-averaged ' if n > 1 else ''}win rate vs RLHF stays below 50%).")
    if r["llm"]:
        out.append(f"The real labeler ({_point(result['points'], 'llm')['labeler']}) measures "
                   f"{r['llm']['alignment']:.1%} and its RLAIF policy is preferred to SFT's "
                   f"{_mean_range(r['llm'], 'win_rate_vs_sft')} of the time.")
    lean = r["length_lean"]
    if lean:
        out.append(f"The simulated labelers' errors lean the way the real labeler's do: {lean['labeler']} picks the "
                   f"longer summary in {lean['longer_share']['value']:.1%} of the {lean['longer_share']['n']} labelled "
                   f"pairs whose lengths differ, which a labeler made of noise and a length lean alone matches at "
                   f"k = {lean['length_bias']:g} (towards the {'shorter' if lean['length_bias'] < 0 else 'longer'} "
                   "summary).")
    if r["coin_flip"]:
        out.append("The simulated coin-flip labeler's policy is preferred to SFT's "
                   f"{_mean_range(r['coin_flip'], 'win_rate_vs_sft')} of the time.")
    if r["gold"] and r["xs"]:
        g, x = r["gold"], r["xs"]
        apart = not _seed_ranges_overlap(g, x)
        gap = 100 * (g["win_rate_vs_sft"] - x["win_rate_vs_sft"])
        out.append(f"The simulated gold rater as labeler gives {_mean_range(g, 'win_rate_vs_sft')}, {abs(gap):.1f} "
                   f"points {'above' if gap >= 0 else 'below'} the PaLM 2 XS-like labeler ({x['name']}: "
                   f"{_mean_range(x, 'win_rate_vs_sft')}); their seed ranges "
                   f"{'do not overlap' if apart else 'overlap'}.")
    if r["xs"] and r["xs_independent"]:
        x, i = r["xs"], r["xs_independent"]
        out.append(f"At the same requested alignment with independent errors ({i['name']}) the policy is preferred to "
                   f"SFT's {_mean_range(i, 'win_rate_vs_sft')} of the time: the lean "
                   f"{'costs' if i['win_rate_vs_sft'] >= x['win_rate_vs_sft'] else 'gains'} "
                   f"{abs(100 * (i['win_rate_vs_sft'] - x['win_rate_vs_sft'])):.1f} points.")
    if r["spearman_alignment_win_rate"] is not None:
        out.append(f"Over the ladder's {r['ladder_points']} simulated labelers, the Spearman rank correlation of "
                   f"alignment with the {'seed-mean ' if n > 1 else ''}win rate vs SFT is "
                   f"{r['spearman_alignment_win_rate']:.2f}.")
        if r["swaps"]:
            n_swaps = len(r["swaps"])
            out.append(f"It falls short of 1 where the ladder's order breaks, in {n_swaps} "
                       f"pair{'s' if n_swaps > 1 else ''}.")
            out += [_swap_sentence(w) for w in r["swaps"]]
    out.append("The paper's labelers: " + ", ".join(f"{k} {v:.1f}%" for k, v in r["paper_alignment"].items()) + ".")
    return " ".join(out)


COMMITTED = Path(__file__).resolve().parent.parent / "assets" / "sweep_tiny.json"


def load_committed() -> dict:
    """The sweep measured on the `tiny` preset and committed with the kit (see its "measured" field)."""
    return read_json(COMMITTED)


def commit(result: dict, path=COMMITTED) -> dict:
    """Save a `tiny` sweep as the kit's committed one (`make sweep`), with a "measured" line saying
    when, where and how long it took. Refuses any other preset (its numbers mean nothing)."""
    from .precomputed import commit_tiny

    return commit_tiny(result, path, "rlaif sweep --preset tiny")


# ---------------------------------------------------------------------------------------------
def _fmt_range(spread: dict | None, pct: bool = True) -> str:
    """A `seed_spread` as its range: "58.3-66.7%" (pct) or "0.412-0.455"; "n/a" without one."""
    if not spread:
        return "n/a"
    return f"{100 * spread['min']:.1f}-{spread['max']:.1%}" if pct else f"{spread['min']:.3f}-{spread['max']:.3f}"


def sweep_table(result: dict) -> str:
    """Markdown table of a sweep: one row per point (simulated ones say so), its win rates and gold score as
    the mean and range over its RL seeds, beside the first seed's win rate vs SFT with its 95% interval."""
    ci = partial(fmt_ci, n=False)
    sec = result.get("seconds") or {}
    timing = (f" Time: base run {sec['base']:.0f} s, points {sec['points']:.0f} s wall with {result.get('workers', 1)} "
              f"worker(s), {result.get('cpu_seconds_points', 0):.0f} CPU s." if sec else "")
    n = n_rl_seeds(result)

    def mean(r, key, fmt="{:.1%}"):
        spread = seed_spread(r, key)
        return fmt.format(spread["mean"]) if spread else "n/a"

    rows = [[r["name"], r["labeler_name"], ci(r["alignment_test"]), ci(r["alignment_all"]),
             "n/a" if r["same_position_pct"] is None else f"{r['same_position_pct']:.0f}% ({r['position_direction']})",
             ci(r["rm_accuracy_human"]), mean(r, "win_rate_vs_sft"), _fmt_range(seed_spread(r, "win_rate_vs_sft")),
             ci(r["win_rate_vs_sft"]), mean(r, "win_rate_vs_rlhf"), _fmt_range(seed_spread(r, "win_rate_vs_rlhf")),
             mean(r, "gold_score", "{:.3f}"), f"{r['mean_words']:.1f}"] for r in result["points"]]
    first = (result["config"].get("rl_seeds") or [None])[0]  # a sweep.json of one seed may not record it
    head = ["point", "labeler", "alignment (test)", "alignment (all pairs)", "same position",
            "RM acc. (human test labels)", "win rate vs SFT: seed mean", "seed range",
            "first seed (95% CI)", "vs RLHF: seed mean", "seed range", "gold score: seed mean", "words (first seed)"]
    seeds = (f"win rates and gold scores: mean and range over {n} RL seeds per point (seeds "
             f"{', '.join(map(str, result['config']['rl_seeds']))}; the first: {first})" if n > 1 else
             "one RL seed per point (its mean and range are its value)")
    return (f"RL budget per point: {result['rl_steps']} steps (the preset's: {result['preset_rl_steps']}); "
            f"judge: {result['judge']}; SFT gold score {result['sft_gold_score']['value']:.3f}; {seeds}.{timing}\n\n"
            + markdown_table(head, rows))


def profile_table(result: dict, names=None) -> str:
    """Markdown: what each point's policy writes on the held-out posts (means: words, share cut off unfinished,
    copying, coverage, wrong facts, age tags, repeated trigrams, gold score) beside SFT's: where a win rate
    comes from."""
    from .analysis import PROFILE

    keys = [k for k in PROFILE if k != "overlap"]
    rows = [("SFT", result["sft_profile"])] + [(r["name"], r["profile"]) for r in result["points"]
                                               if r.get("profile") and (names is None or r["name"] in names)]
    return markdown_table(["policy", *keys], [[name] + [f"{prof[k]:.2f}" for k in keys] for name, prof in rows])


def _err(intervals: list[dict]) -> list[list[float]]:
    """Matplotlib's asymmetric error bars of {value, ci_low, ci_high} dicts: [[below, ...], [above, ...]]."""
    return [[d["value"] - d["ci_low"] for d in intervals], [d["ci_high"] - d["value"] for d in intervals]]


def _win(r: dict, n: int) -> dict:
    """A point's win rate vs SFT as plotted: {value, ci_low, ci_high} = the seed mean and range (`n` > 1 RL
    seeds), or, for a sweep of one seed, its value and 95% interval."""
    if n == 1:
        return r["win_rate_vs_sft"]
    spread = seed_spread(r, "win_rate_vs_sft")
    return {"value": spread["mean"], "ci_low": spread["min"], "ci_high": spread["max"]}


def plot_sweep(result: dict):
    """Left: win rate vs SFT against labeler alignment (measured on all the run's human-labelled
    pairs), simulated labelers as a line, the real LLM as a marked point, RLHF as a band, the paper's
    PaLM 2 alignments marked on the axis; win rates at their mean over the RL seeds with a vertical bar
    from the lowest to the highest seed (one seed: its 95% interval), alignments with their 95%
    interval. Right: the position-bias panel. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.6), gridspec_kw={"width_ratios": [1.6, 1]})
    pts, human, ladder = result["points"], _point(result["points"], "human"), _ladder(result["points"])
    n = n_rl_seeds(result)
    caption = f"mean and range over {n} RL seeds" if n > 1 else "one RL seed, 95% CI"

    def errorbar(r, **style):  # at (alignment, win rate vs SFT): the alignment's 95% interval, the seeds' range
        a, w = r["alignment_all"], _win(r, n)
        ax.errorbar(a["value"], w["value"], xerr=_err([a]), yerr=_err([w]), capsize=2, **style)

    if human:
        w = _win(human, n)
        ax.axhspan(w["ci_low"], w["ci_high"], color="tab:green", alpha=0.15)
        ax.axhline(w["value"], color="tab:green", lw=1.5, label=f"RLHF (human labels): {w['value']:.1%} (band: "
                   f"{'range over the seeds' if n > 1 else '95% CI'})")
        if human.get("alignment_all"):  # at the alignment of its own labels: their agreement with a second rater
            errorbar(human, fmt="s", ms=9, color="tab:green",
                     label="RLHF at its labels' alignment (agreement with a second simulated rater)")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":", label="SFT (50%)")
    if ladder:
        xs, ys = [r["alignment_all"]["value"] for r in ladder], [_win(r, n)["value"] for r in ladder]
        ax.plot(xs, ys, color="tab:blue", lw=1, alpha=0.6)
        for r, x, y in zip(ladder, xs, ys):
            gold = r["requested"]["alignment"] is None
            errorbar(r, fmt="*" if gold else "o", ms=12 if gold else 6, color="tab:blue",
                     label="simulated: the gold rater" if gold else None)
            if not gold:
                ax.annotate(f"asked {r['requested']['alignment']:.1%}", (x, y), textcoords="offset points",
                            xytext=(4, -12), fontsize=7, color="tab:blue")
        k = result["config"].get("length_bias") or 0
        lean = f", errors lean to the {'shorter' if k < 0 else 'longer'} summary (k={k:g})" if k else ""
        ax.plot([], [], "o", color="tab:blue", label=f"simulated labelers (what-if), "
                f"{result['config']['same_position']:.0%} same position, debiased{lean}")
    for i, r in enumerate(p for p in pts if p["panel"] == "errors"):
        errorbar(r, fmt="o", ms=7, mfc="white", color="tab:purple",
                 label=None if i else "simulated, same alignment, independent errors (no lean)")
    llm = _point(pts, "llm")
    if llm:
        errorbar(llm, fmt="X", ms=11, color="tab:red", label=f"real labeler: {llm['labeler']}")
    for name, a in result["paper"]["alignment"].items():
        ax.axvline(a / 100, color="k", lw=0.6, ls="--", alpha=0.5)
        ax.text(a / 100, 0.01, f" {name}\n {a:.1f}%", transform=ax.get_xaxis_transform(), fontsize=7, va="bottom")
    ax.set_xlabel("labeler alignment with human labels (all the run's labelled pairs, 95% CI)")
    ax.set_ylabel(f"RL policy's win rate vs SFT ({caption})")
    ax.set_title("Labeler quality -> policy quality (dashed: the paper's PaLM 2 labelers)")
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="lower center", ncol=2)  # below: points fill the axes
    panel = [r for r in pts if r["panel"] == "position"]
    ref = [r for r in ladder if r["requested"]["alignment"] is not None and any(
        abs(r["requested"]["alignment"] - p["requested"]["alignment"]) < 1e-9 for p in panel)]
    bars = ref + panel
    if bars:
        wins = [_win(r, n) for r in bars]
        ax2.bar(range(len(bars)), [w["value"] for w in wins], yerr=_err(wins), capsize=3,
                color=["tab:blue" if r["requested"]["debias"] else "tab:orange" for r in bars])
        ax2.set_xticks(range(len(bars)), [f"{r['same_position_pct']:.0f}% same pos.\n"
                                          f"{'both orders' if r['requested']['debias'] else 'one order'}\n"
                                          f"align. {r['alignment_all']['value']:.0%}" for r in bars], fontsize=7)
        ax2.axhline(0.5, color="grey", lw=0.8, ls=":")
        if human:
            ax2.axhline(_win(human, n)["value"], color="tab:green", lw=1.5)
        ax2.set_ylabel(f"win rate vs SFT ({caption})")
        ax2.set_title(f"Position bias at {bars[0]['requested']['alignment']:.0%} requested alignment (simulated)")
    fig.suptitle(f"{result['preset']} preset, RL {result['rl_steps']} steps per point; win rates vs SFT (simulated "
                 f"human judge): {caption}; SIMULATED labelers are a what-if, not LLMs", fontsize=9)
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    return fig
