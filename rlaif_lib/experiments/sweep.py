"""The paper's central claim on a laptop: how labeler quality carries through to the policy.

One SFT policy, one set of candidate pairs (a base run's data / sft / sample / label stages), and a
ladder of labelers. For each labeler ("point"): labels -> reward model (Algorithm 2) -> RL
(Algorithm 3) -> win rate against SFT under the simulated human judge (Table 1's measure). Only
the labels, the reward model and the RL policy change from point to point; all are the kit's
real code paths.

Points (`SweepConfig`):
- simulated labelers (SIMULATED, a what-if: see toy_world/simulated_labeler.py) at requested
  alignments 50% (a coin flip: the control), 55%, PaLM 2 XS's, 70% and PaLM 2 L's (paper.py), all at
  PaLM 2 L's same-position rate, both orders averaged; and the gold rater itself;
- the real SmolLM2-135M labels of the base run (its `label` stage);
- human labels (the RLHF baseline: the same pairs, labelled by the simulated human raters);
- a position-bias panel at PaLM 2 L's alignment with PaLM 2 XS's same-position rate, with and without
  the both-order average.

`run_sweep` writes `sweep.json` (one row per point) and `sweep.png` into the sweep folder; each
point's artefacts live in `points/<name>/` and a finished point is skipped on a rerun.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .. import paper
from ..run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl
from ..method.labeling import simulated as sim
from ..data import load_run_pairs

BASE_STAGES = ("data", "sft", "sample", "label")


@dataclass
class SweepConfig:
    """Which labelers the sweep tries, and the RL budget of each point."""

    # requested alignments of the ladder; 0.5 is a coin-flip labeler, the control for "RL with a reward
    # model that knows nothing": what any RL run gains here without information from the labels
    alignments: tuple = (0.5, 0.55, paper.LABELER_SIZE["PaLM 2 XS"] / 100, 0.70, paper.LABELER_SIZE["PaLM 2 L"] / 100)
    same_position: float = paper.SAME_POSITION["PaLM 2 L"] / 100  # of the ladder's simulated labelers
    gold: bool = True  # the gold rater itself as a labeler
    llm: bool = True  # the base run's real LLM labels (SmolLM2-135M on `tiny`)
    human: bool = True  # RLHF: the human labels of the same pairs
    # position panel beside the ladder's PaLM 2 L-like point: (alignment, same position, both orders averaged?)
    position_panel: tuple = ((paper.LABELER_SIZE["PaLM 2 L"] / 100, paper.SAME_POSITION["PaLM 2 XS"] / 100, True),
                             (paper.LABELER_SIZE["PaLM 2 L"] / 100, paper.SAME_POSITION["PaLM 2 XS"] / 100, False))
    # The sweep's own RL budget per point, capped at the preset's (tiny: 30 steps, as in
    # its own RL stage; the committed sweep was measured when tiny trained 60). None: the preset's budget.
    rl_steps: int | None = 30
    seed: int = 0  # the simulated labelers' noise seed


@dataclass
class Point:
    """One labeler of the sweep. kind: "simulated" | "llm" | "human"."""

    name: str
    kind: str
    labeler: str
    panel: str = "ladder"  # "ladder" (alignment axis) or "position" (the position-bias panel)
    extra: dict = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}".rstrip("0").rstrip(".")


def sweep_points(config: SweepConfig, preset) -> list[Point]:
    """The sweep's points, in the order they run."""
    points = []
    for a in config.alignments:
        spec = sim.SimulatedLabeler(alignment=round(a, 4), same_position=config.same_position, seed=config.seed).spec
        points.append(Point(f"sim-{_pct(a)}", "simulated", spec))
    if config.gold:
        points.append(Point("sim-gold", "simulated", sim.SimulatedLabeler(alignment=None, seed=config.seed).spec))
    if config.human:
        points.append(Point("human", "human", "human labels (RLHF)"))
    for a, s, debias in config.position_panel:
        spec = sim.SimulatedLabeler(alignment=round(a, 4), same_position=s, debias=debias, seed=config.seed).spec
        points.append(Point(f"sim-{_pct(a)}-pos{_pct(s)}-{'debiased' if debias else 'one-order'}", "simulated", spec,
                            panel="position"))
    if config.llm:  # last: its labels (the base run's label stage) are the slowest thing to make
        points.append(Point("llm", "llm", preset.labeler))
    return points


def base_preset(base: RunFolder, preset):
    """The preset the sweep's base run is (to be) made with: `preset` when the base's label stage was
    made with it (e.g. a full run folder), else `preset` without Table 2's techniques (a sweep's own
    base: they cost time and no point uses them). Raises provenance.StageMismatchError when the base's
    finished stages were made with other settings (another preset or seed)."""
    from ..provenance import StageMismatchError, check_stage

    lean = replace(preset, techniques=())
    if base.done("label").exists():
        try:
            check_stage(base, "label", preset)
            return preset
        except StageMismatchError:
            pass
    for stage in BASE_STAGES:
        if base.done(stage).exists():
            check_stage(base, stage, lean)
    return lean


def rl_steps(config: SweepConfig, preset) -> int:
    """RL steps per point: the sweep's budget, capped at the preset's."""
    return min(config.rl_steps, preset.rl.max_steps) if config.rl_steps else preset.rl.max_steps


# ---------------------------------------------------------------------------------------------
def _labels(point: Point, base: RunFolder, train, test, preset, cache) -> tuple[list, list, str]:
    """(train labels, test labels, labeler name) for one point, each row with its `pair_id`, in pair order."""
    from ..data import pair_id
    from ..pipeline import with_pair_ids

    if point.kind == "human":
        rows = [{"id": p["id"], "pair_id": pair_id(p), "p_a": 1.0 if p["choice"] == 0 else 0.0} for p in train + test]
        return rows[:len(train)], rows[len(train):], "human labels (simulated raters)"
    if point.kind == "llm":  # the base run's own labels, joined to the pairs by pair_id
        by_id = {x["pair_id"]: x for x in read_jsonl(base.labels("train")) + read_jsonl(base.labels("test"))}
        rows = [by_id[pair_id(p)] for p in train + test]
        return rows[:len(train)], rows[len(train):], f"{preset.labeler} (real LLM)"
    rows = with_pair_ids(train + test, sim.label_pairs_simulated(train + test, point.labeler, seed=preset.seed,
                                                                 cache_path=cache))
    return rows[:len(train)], rows[len(train):], rows[0]["labeler"] if rows else sim.parse(point.labeler).name


def _label_metrics(train_labels, test_labels, train, test, kind: str) -> dict:
    from ..method import labeling as lab

    if kind == "human":
        return {"alignment_test": None, "alignment_all": None, "same_position_pct": None, "position_direction": None}
    bias = lab.position_bias(train_labels + test_labels)
    return {"alignment_test": lab.alignment(test_labels, test), "alignment_all": lab.alignment(train_labels + test_labels, train + test),
            "same_position_pct": bias["same_position_pct"], "position_direction": lab.position_direction(bias)}


def sft_summaries(base: RunFolder, out: Path, preset, n_eval: int | None = None) -> dict:
    """Greedy SFT summaries of the base run's evaluation posts, cached in the sweep folder `out`."""
    from ..method.sft import generate

    rows = read_jsonl(base.eval_prompts)[:n_eval]
    path = out / "sft_summaries.json"
    if path.exists():
        cached = read_json(path)
        if cached["ids"] == [r["id"] for r in rows]:
            return cached
    summaries = [s[0] for s in generate(str(base.sft), [r["prompt"] for r in rows], n=1,
                                        temperature=preset.eval_temperature, max_new_tokens=preset.max_new_tokens,
                                        seed=preset.seed)]
    path.parent.mkdir(parents=True, exist_ok=True)  # notebook 06's exercise, before any sweep made the folder
    return read_json(write_json(path, {"ids": [r["id"] for r in rows], "summaries": summaries}))


def run_point(point: Point, base: RunFolder, folder: Path, preset, config: SweepConfig, sft_eval: dict) -> dict:
    """labels -> reward model -> RL -> win rate vs SFT for one point; writes and returns result.json."""
    from datasets import Dataset

    from ..method.evaluate import gold_preferences, gold_score_summary, win_rate
    from .analysis import summary_profile
    from ..pipeline import labels_for
    from ..presets import toy_posts
    from ..method.reward import load_reward_model, make_reward_fn, preference_accuracy, train_reward_model
    from ..method.rewards import gold_reward
    from ..method.rl import train_rl
    from ..method.sft import generate

    done = folder / "result.json"
    if done.exists():
        return read_json(done)
    folder.mkdir(parents=True, exist_ok=True)
    seconds, cpu = {}, time.process_time()  # wall seconds per part; CPU seconds of the whole point
    t = time.time()
    train, test = load_run_pairs(base, "train"), load_run_pairs(base, "test")
    train_labels, test_labels, name = _labels(point, base, train, test, preset, folder.parent.parent / "sim_cache.jsonl")
    write_jsonl(folder / "labels_train.jsonl", train_labels)
    write_jsonl(folder / "labels_test.jsonl", test_labels)
    metrics = _label_metrics(train_labels, test_labels, train, test, point.kind)
    seconds["label"] = round(time.time() - t, 1)

    t = time.time()
    if not (folder / "reward" / "config.json").exists():
        train_reward_model(str(base.sft), train, labels_for(train, train_labels, folder / "labels_train.jsonl"),
                           folder / "reward", preset.reward, progress=False)
    acc = preference_accuracy(load_reward_model(folder / "reward"), test)
    acc.pop("p_a")
    seconds["reward"] = round(time.time() - t, 1)

    t = time.time()
    rl_config = replace(preset.rl, max_steps=rl_steps(config, preset))
    if not (folder / "rl" / "curves.json").exists():
        prompts = Dataset.from_list(read_jsonl(base.rl_prompts))
        reward = make_reward_fn(folder / "reward")  # unweighted: train_rl applies the paper's (1 - beta) if set
        train_rl(base.sft, reward, prompts, folder / "rl", rl_config, gold_fn=gold_reward(toy_posts(preset, "sft")),
                 progress=False)
    curves = read_json(folder / "rl" / "curves.json")
    seconds["rl"] = round(time.time() - t, 1)

    t = time.time()
    eval_rows = read_jsonl(base.eval_prompts)[:len(sft_eval["ids"])]
    posts = toy_posts(preset, "eval")
    post_list = [posts[r["id"]] for r in eval_rows]
    mine = [s[0] for s in generate(str(folder / "rl"), [r["prompt"] for r in eval_rows], n=1,
                                   temperature=preset.eval_temperature, max_new_tokens=preset.max_new_tokens, seed=preset.seed)]
    write_jsonl(folder / "summaries.jsonl", [{"id": r["id"], "policy": m, "sft": s}
                                             for r, m, s in zip(eval_rows, mine, sft_eval["summaries"])])
    seconds["evaluate"] = round(time.time() - t, 1)
    result = {
        "name": point.name, "kind": point.kind, "panel": point.panel, "labeler": point.labeler, "labeler_name": name,
        "simulated": point.kind == "simulated",
        "requested": asdict(sim.parse(point.labeler)) if point.kind == "simulated" else None,
        **metrics,
        "rm_accuracy_human": {k: acc[k] for k in ("value", "ci_low", "ci_high", "n")},
        "win_rate_vs_sft": win_rate(gold_preferences(post_list, mine, sft_eval["summaries"])),
        "gold_score": gold_score_summary(post_list, mine),
        "mean_words": sum(len(s.split()) for s in mine) / max(len(mine), 1),
        "profile": summary_profile(post_list, mine),  # what the policy writes: age tags, wrong facts, ...
        "rl_final": {k: v[-1] for k, v in curves.items() if v and k != "step"},
        "rl_steps": rl_config.max_steps, "seconds": seconds, "cpu_seconds": round(time.process_time() - cpu, 1),
    }
    write_json(done, result)
    return result


def _run_point_in_worker(args) -> dict:
    """`run_point` in a worker process of its own, one torch thread (what `workers` > 1 runs)."""
    import torch

    torch.set_num_threads(1)
    point, base, folder, preset, config, sft_eval = args
    return run_point(point, RunFolder(base), Path(folder), preset, config, sft_eval)


def run_sweep(preset, out, config: SweepConfig = SweepConfig(), base=None, progress: bool = True,
              workers: int = 1) -> dict:
    """The whole sweep: the base run (out/base, or an existing run folder `base` whose data, sft,
    sample and label stages are done), then every point of `sweep_points`. Writes out/sweep.json and
    out/sweep.png; returns the sweep.json content. `workers` > 1 trains that many points at once, one
    process and one torch thread each (2 on a 2-core laptop: the points are independent), while the
    main process makes the LLM's labels."""
    from .. import pipeline
    from ..method.evaluate import gold_score_summary
    from .analysis import summary_profile
    from ..presets import toy_posts, with_seed

    if preset.comparisons != "toy":
        raise ValueError("the sweep needs the toy world (simulated labelers and the gold judge)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    base = RunFolder(base or out / "base")
    preset = base_preset(base, with_seed(preset))
    points = sweep_points(config, preset)

    def ensure(stages):  # the base run's stages (the LLM's labels only when its point comes up)
        if not all(base.done(s).exists() for s in stages):
            pipeline.run(preset, base, stages=stages)

    ensure(BASE_STAGES[:3])
    base_seconds = round(time.time() - start, 1)
    sft_eval = sft_summaries(base, out, preset, preset.n_eval_posts)
    posts = toy_posts(preset, "eval")
    eval_ids = sft_eval["ids"]
    sft_gold = gold_score_summary([posts[i] for i in eval_ids], sft_eval["summaries"])
    sft_profile = summary_profile([posts[i] for i in eval_ids], sft_eval["summaries"])
    jobs = {p.name: (p, str(base), str(out / "points" / p.name), preset, config, sft_eval) for p in points}
    results = {}
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {p.name: pool.submit(_run_point_in_worker, jobs[p.name]) for p in points if p.kind != "llm"}
            if any(p.kind == "llm" for p in points):  # the LLM labels the pairs meanwhile, here
                t = time.time()
                ensure(BASE_STAGES)
                base_seconds += round(time.time() - t, 1)
                futures.update({p.name: pool.submit(_run_point_in_worker, jobs[p.name]) for p in points if p.kind == "llm"})
            for i, p in enumerate(points):
                results[p.name] = futures[p.name].result()
                if progress:
                    print(f"[sweep] {i + 1}/{len(points)} {p.name} done", flush=True)
    else:
        for i, point in enumerate(points):
            if progress:
                print(f"[sweep] {i + 1}/{len(points)} {point.name}: {point.labeler}", flush=True)
            if point.kind == "llm":
                t = time.time()
                ensure(BASE_STAGES)
                base_seconds += round(time.time() - t, 1)
            results[point.name] = run_point(point, base, out / "points" / point.name, preset, config, sft_eval)
    rows = [results[p.name] for p in points]
    _versus_rlhf(rows, out, [posts[i] for i in eval_ids])
    result = {
        "what": "labeler quality -> reward model -> RL policy, one SFT policy and one set of pairs; "
                "points marked simulated use a SIMULATED labeler (a what-if, calibrated on toy pairs), not an LLM",
        "preset": preset.name, "base": str(base), "config": asdict(config),
        "rl_steps": rl_steps(config, preset), "preset_rl_steps": preset.rl.max_steps,
        "judge": "simulated human rater (gold score)", "sft_gold_score": sft_gold, "sft_profile": sft_profile,
        "n_train_pairs": len(load_run_pairs(base, "train")), "n_test_pairs": len(load_run_pairs(base, "test")),
        "workers": workers, "cpu_seconds_points": round(sum(r.get("cpu_seconds") or 0 for r in rows), 1),
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


def _versus_rlhf(rows: list[dict], out: Path, posts: list) -> None:
    """Add each point's win rate against the RLHF policy (the paper's "RLAIF vs RLHF", 50% = as good),
    judged on the same evaluation posts, when the sweep has the human-label point."""
    from ..method.evaluate import gold_preferences, win_rate

    if not any(r["kind"] == "human" for r in rows):
        return
    rlhf = [x["policy"] for x in read_jsonl(out / "points" / "human" / "summaries.jsonl")]
    for r in rows:
        if r["kind"] != "human":
            mine = [x["policy"] for x in read_jsonl(out / "points" / r["name"] / "summaries.jsonl")]
            r["win_rate_vs_rlhf"] = win_rate(gold_preferences(posts, mine, rlhf))


def reading(result: dict) -> dict:
    """The sweep's answer in numbers: the RLHF point, and the lowest-alignment simulated labeler of
    the ladder (debiased) whose policy cannot be told from RLHF's (win rate vs RLHF with a 95% interval
    that reaches 50%), or None; plus where the real LLM labeler sits."""
    pts = result["points"]
    human = next((r for r in pts if r["kind"] == "human"), None)
    ladder = sorted((r for r in pts if r["kind"] == "simulated" and r["panel"] == "ladder"),
                    key=lambda r: r["alignment_all"]["value"])
    reaches = next((r for r in ladder if r.get("win_rate_vs_rlhf") and r["win_rate_vs_rlhf"]["ci_high"] >= 0.5), None)
    llm = next((r for r in pts if r["kind"] == "llm"), None)

    def short(r):
        return None if r is None else {
            "name": r["name"], "alignment": r["alignment_all"]["value"] if r.get("alignment_all") else None,
            "win_rate_vs_sft": r["win_rate_vs_sft"]["value"], "win_rate_vs_rlhf": (r.get("win_rate_vs_rlhf") or {}).get("value")}
    return {"rlhf": short(human), "lowest_alignment_matching_rlhf": short(reaches), "llm": short(llm),
            "paper_alignment": result["paper"]["alignment"]}


def reading_text(result: dict) -> str:
    """`reading` in sentences, every number from the sweep (for the notebook and the report)."""
    r, out = reading(result), []
    if r["rlhf"]:
        out.append(f"RLHF (human labels) beats SFT {r['rlhf']['win_rate_vs_sft']:.1%} of the time.")
    m = r["lowest_alignment_matching_rlhf"]
    if m:
        out.append(f"The least aligned simulated labeler whose RLAIF policy cannot be told from RLHF's (win rate vs RLHF "
                   f"{m['win_rate_vs_rlhf']:.1%}, interval reaching 50%) is {m['name']}, measured at {m['alignment']:.1%} "
                   f"alignment on this run's pairs; it beats SFT {m['win_rate_vs_sft']:.1%} of the time.")
    elif r["rlhf"]:
        out.append("No simulated labeler of the ladder reaches RLHF here (every interval of its win rate vs RLHF "
                   "stays below 50%).")
    if r["llm"]:
        out.append(f"The real labeler ({result['points'][[p['kind'] for p in result['points']].index('llm')]['labeler']}) "
                   f"measures {r['llm']['alignment']:.1%} and its RLAIF policy beats SFT {r['llm']['win_rate_vs_sft']:.1%}.")
    out.append("The paper's labelers: " + ", ".join(f"{k} {v:.1f}%" for k, v in r["paper_alignment"].items()) + ".")
    return " ".join(out)


COMMITTED = Path(__file__).resolve().parent.parent / "assets" / "sweep_tiny.json"


def load_committed() -> dict:
    """The sweep measured on the `tiny` preset and committed with the kit (see its "measured" field)."""
    return read_json(COMMITTED)


def commit(result: dict, path=COMMITTED) -> dict:
    """Save a `tiny` sweep as the kit's committed one (`make sweep`), with a "measured" line saying
    when, where and how long it took. Refuses any other preset (its numbers mean nothing)."""
    import os
    import platform
    from datetime import date

    if result["preset"] != "tiny":
        raise ValueError(f"only a sweep of the tiny preset is committed (this one: {result['preset']})")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    saved = dict(result, measured=f"rlaif sweep --preset tiny, {date.today()}, {result['seconds']['total']:.0f} s "
                                  f"wall on {cores} CPU cores ({platform.machine()}), {result['workers']} workers")
    write_json(path, saved)
    return saved


# ---------------------------------------------------------------------------------------------
def sweep_table(result: dict) -> str:
    """Markdown table of a sweep: one row per point (simulated ones say so)."""
    def ci(d):
        return "n/a" if not d else f"{d['value']:.1%} [{d['ci_low']:.1%}, {d['ci_high']:.1%}]"

    sec = result.get("seconds") or {}
    timing = (f" Time: base run {sec['base']:.0f} s, points {sec['points']:.0f} s wall with {result.get('workers', 1)} "
              f"worker(s), {result.get('cpu_seconds_points', 0):.0f} CPU s." if sec else "")
    lines = [f"RL budget per point: {result['rl_steps']} steps (the preset's: {result['preset_rl_steps']}); "
             f"judge: {result['judge']}; SFT gold score {result['sft_gold_score']['value']:.3f}.{timing}", "",
             "| point | labeler | alignment (test) | alignment (all pairs) | same position | RM acc. (human test labels) "
             "| win rate vs SFT | vs RLHF | gold score | words |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["points"]:
        sp = "n/a" if r["same_position_pct"] is None else f"{r['same_position_pct']:.0f}% ({r['position_direction']})"
        lines.append(f"| {r['name']} | {r['labeler_name']} | {ci(r['alignment_test'])} | {ci(r['alignment_all'])} | {sp} | "
                     f"{ci(r['rm_accuracy_human'])} | {ci(r['win_rate_vs_sft'])} | {ci(r.get('win_rate_vs_rlhf'))} | "
                     f"{r['gold_score']['value']:.3f} | "
                     f"{r['mean_words']:.1f} |")
    return "\n".join(lines)


def profile_table(result: dict, names=None) -> str:
    """Markdown: what each point's policy writes on the held-out posts (means: words, age tags, wrong
    facts, coverage, copying, gold score) beside SFT's: where a win rate comes from."""
    from .analysis import PROFILE

    keys = [k for k in PROFILE if k not in ("unfinished", "overlap", "repetition")]
    rows = [("SFT", result["sft_profile"])] + [(r["name"], r["profile"]) for r in result["points"]
                                               if r.get("profile") and (names is None or r["name"] in names)]
    lines = ["| policy | " + " | ".join(keys) + " |", "| --- |" + " --- |" * len(keys)]
    lines += [f"| {name} | " + " | ".join(f"{prof[k]:.2f}" for k in keys) + " |" for name, prof in rows]
    return "\n".join(lines)


def plot_sweep(result: dict):
    """Left: win rate vs SFT against labeler alignment (measured on all the run's human-labelled
    pairs), simulated labelers as a line, the real LLM as a marked point, RLHF as a band, the paper's
    PaLM 2 alignments marked on the axis. Right: the position-bias panel. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.6, 1]})
    pts = result["points"]

    def xy(r):
        a, w = r["alignment_all"], r["win_rate_vs_sft"]
        return (a["value"], w["value"], [[a["value"] - a["ci_low"]], [a["ci_high"] - a["value"]]],
                [[w["value"] - w["ci_low"]], [w["ci_high"] - w["value"]]])

    human = next((r for r in pts if r["kind"] == "human"), None)
    if human:
        w = human["win_rate_vs_sft"]
        ax.axhspan(w["ci_low"], w["ci_high"], color="tab:green", alpha=0.15)
        ax.axhline(w["value"], color="tab:green", lw=1.5, label=f"RLHF (human labels): {w['value']:.1%}")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":", label="SFT (50%)")
    ladder = sorted((r for r in pts if r["kind"] == "simulated" and r["panel"] == "ladder"), key=lambda r: r["alignment_all"]["value"])
    if ladder:
        xs = [xy(r)[0] for r in ladder]
        ax.plot(xs, [xy(r)[1] for r in ladder], color="tab:blue", lw=1, alpha=0.6)
        for r in ladder:
            x, y, xe, ye = xy(r)
            gold = r["requested"]["alignment"] is None
            ax.errorbar(x, y, xerr=xe, yerr=ye, fmt="*" if gold else "o", ms=12 if gold else 6, color="tab:blue",
                        capsize=2, label="simulated: the gold rater" if gold else None)
            if not gold:
                ax.annotate(f"asked {r['requested']['alignment']:.1%}", (x, y), textcoords="offset points",
                            xytext=(4, -12), fontsize=7, color="tab:blue")
        ax.plot([], [], "o", color="tab:blue", label=f"simulated labelers (what-if), "
                f"{result['config']['same_position']:.0%} same position, debiased")
    for r in (r for r in pts if r["kind"] == "llm"):
        x, y, xe, ye = xy(r)
        ax.errorbar(x, y, xerr=xe, yerr=ye, fmt="X", ms=11, color="tab:red", capsize=2, label=f"real labeler: {r['labeler']}")
    for name, a in result["paper"]["alignment"].items():
        ax.axvline(a / 100, color="k", lw=0.6, ls="--", alpha=0.5)
        ax.text(a / 100, 0.01, f" {name}\n {a:.1f}%", transform=ax.get_xaxis_transform(), fontsize=7, va="bottom")
    ax.set_xlabel("labeler alignment with human labels (all the run's labelled pairs, 95% CI)")
    ax.set_ylabel("RL policy's win rate vs SFT (simulated human judge)")
    ax.set_title("Labeler quality -> policy quality (dashed: the paper's PaLM 2 labelers)")
    ax.legend(fontsize=7, loc="upper left")
    panel = [r for r in pts if r["panel"] == "position"]
    ref = [r for r in ladder if r["requested"]["alignment"] is not None and any(
        abs(r["requested"]["alignment"] - p["requested"]["alignment"]) < 1e-9 for p in panel)]
    bars = ref + panel
    if bars:
        labels = [f"{r['same_position_pct']:.0f}% same pos.\n{'both orders' if r['requested']['debias'] else 'one order'}\n"
                  f"align. {r['alignment_all']['value']:.0%}" for r in bars]
        vals = [r["win_rate_vs_sft"]["value"] for r in bars]
        err = [[r["win_rate_vs_sft"]["value"] - r["win_rate_vs_sft"]["ci_low"] for r in bars],
               [r["win_rate_vs_sft"]["ci_high"] - r["win_rate_vs_sft"]["value"] for r in bars]]
        ax2.bar(range(len(bars)), vals, yerr=err, capsize=3,
                color=["tab:blue" if r["requested"]["debias"] else "tab:orange" for r in bars])
        ax2.set_xticks(range(len(bars)), labels, fontsize=7)
        ax2.axhline(0.5, color="grey", lw=0.8, ls=":")
        if human:
            ax2.axhline(human["win_rate_vs_sft"]["value"], color="tab:green", lw=1.5)
        ax2.set_ylabel("win rate vs SFT")
        ax2.set_title(f"Position bias at {bars[0]['requested']['alignment']:.0%} requested alignment (simulated)")
    fig.suptitle(f"{result['preset']} preset, RL {result['rl_steps']} steps per point; SIMULATED labelers are a what-if, "
                 "not LLMs", fontsize=9)
    fig.tight_layout()
    return fig
