"""The labeler sweep on the `micro` preset: every point is a pipeline run (labels -> RM -> RL ->
evaluation) on the base run's stages, each further RL seed of a point a run on its first seed's labels
and reward models, and a point made with other settings is never reused.

The base run is $RLAIF_RUN when set (`make test`: the micro run tests/test_pipeline.py made), and the
sweep goes to <run>/sweep, where notebook 06 finds it; else both live in a temporary folder.
"""
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from rlaif_lib import pipeline
from rlaif_lib.experiments import sweep
from rlaif_lib.presets import get_preset
from rlaif_lib.report import write_report
from rlaif_lib.run_folder import RunFolder, read_json, read_jsonl


@pytest.fixture(scope="module")
def micro_sweep(tmp_path_factory):
    base = RunFolder(Path(os.environ.get("RLAIF_RUN") or tmp_path_factory.mktemp("micro")))
    preset = get_preset("micro")
    result = sweep.run_sweep(preset, base.root / "sweep", sweep.SweepConfig(), base=base, workers=2)
    return base, preset, result


def test_every_point_reports_its_numbers(micro_sweep):
    base, preset, result = micro_sweep
    names = [p.name for p in sweep.sweep_points(sweep.resolve_lean(sweep.SweepConfig(), base)[0], preset)]
    assert [r["name"] for r in result["points"]] == names
    assert {"sim-50", "sim-55", "sim-62.7", "sim-70", "sim-78", "sim-gold", "llm", "human"} <= set(names)
    for r in result["points"]:
        for key in ("rm_accuracy_human", "win_rate_vs_sft", "gold_score"):
            assert r[key]["ci_low"] <= r[key]["value"] <= r[key]["ci_high"], (r["name"], key)
        assert r["win_rate_vs_sft"]["n"] == preset.n_eval_posts and r["rl_steps"] == sweep.rl_steps(sweep.SweepConfig(), preset)
        if r["kind"] == "simulated":
            assert "simulated labeler" in r["labeler_name"] and 0 <= r["same_position_pct"] <= 100
        loss = r["largest_loss_vs_sft"]  # the policy's worst post against SFT's summary of it, from the summaries
        summaries = {x["id"]: x for x in read_jsonl(RunFolder(r["run"]).summaries)}
        policy = summaries[loss["id"]]["rlhf" if r["kind"] == "human" else "rlaif"]
        assert loss["summary"] == policy.strip() and loss["baseline"] == summaries[loss["id"]]["sft"].strip()
        if r["kind"] != "human":
            assert 0 <= r["alignment_test"]["value"] <= 1 and r["win_rate_vs_rlhf"]["n"] == preset.n_eval_posts
    # every point is a run folder on the base run's data, sft and sample stages (linked, not recomputed);
    # the real LLM and human points also on its labels and reward models, unchanged
    points = base.root / "sweep" / "points"
    for r in result["points"]:
        run = RunFolder(points / r["name"])
        assert read_json(run.preset)["rl"]["max_steps"] == r["rl_steps"] and read_json(run.metrics)["win_rate"]
        assert all(run.stage(s).resolve() == base.stage(s).resolve() for s in ("data", "sft", "sample"))
        assert r["reused"] == (["data", "sft", "sample"] if r["kind"] == "simulated" else
                               ["data", "sft", "sample", "label", "reward"])
        assert not run.stage("rl").is_symlink() and set(r["seconds"]) == {"label", "reward", "rl", "evaluate"} - set(r["reused"])
    llm = next(r for r in result["points"] if r["kind"] == "llm")
    assert read_jsonl(RunFolder(points / "llm").labels("train")) == read_jsonl(base.labels("train"))
    assert llm["labeler"] == preset.labeler
    assert (base.root / "sweep" / "sweep.png").stat().st_size > 10_000
    assert read_json(base.root / "sweep" / "sweep.json")["points"] == result["points"]


def test_table_reading_and_rerun(micro_sweep):
    base, preset, result = micro_sweep
    table = sweep.sweep_table(result)
    assert table.count("simulated labeler") >= 5 and "human labels" in table
    r = sweep.reading(result)
    assert r["rlhf"]["name"] == "human" and r["llm"]["name"] == "llm"
    assert set(r["paper_alignment"]) == {"PaLM 2 L", "PaLM 2 S", "PaLM 2 XS"}
    again = sweep.run_sweep(preset, base.root / "sweep", sweep.SweepConfig(), base=base)  # every point is done: no retraining
    assert [p["seconds"] for p in again["points"]] == [p["seconds"] for p in result["points"]]
    assert [[s["seconds"] for s in p["seeds"]] for p in again["points"]] == \
        [[s["seconds"] for s in p["seeds"]] for p in result["points"]]  # nor any further RL seed


def test_the_simulated_labelers_lean_like_the_real_labeler(micro_sweep):
    """The ladder's simulated labelers (not the coin flip, not the gold rater) get the length lean k at which a
    labeler of noise and lean alone picks the longer summary as often as the base run's LLM labels do; the
    "errors" panel repeats their alignment without it."""
    base, preset, result = micro_sweep
    from rlaif_lib.data import load_run_pairs
    from rlaif_lib.method.labeling import simulated as sim

    pairs = load_run_pairs(base, "train") + load_run_pairs(base, "test")
    labels = read_jsonl(base.labels("train")) + read_jsonl(base.labels("test"))
    share = sim.longer_share(labels, pairs)
    k = sim.length_bias_like(share["value"], pairs)
    assert result["length_lean"] == {"labeler": preset.labeler, "longer_share": share, "length_bias": k}
    assert result["config"]["length_bias"] == k
    for r in result["points"]:
        if r["kind"] != "simulated":
            continue
        spec = sim.parse(r["labeler"])
        coin, gold = spec.alignment == 0.5, spec.alignment is None
        assert spec.length_bias == (0 if coin or gold or r["panel"] == "errors" else k), r["name"]
    assert [r["panel"] for r in result["points"]].count("errors") == (1 if k else 0)
    with pytest.raises(ValueError, match="resolve the length lean"):
        sweep.sweep_points(sweep.SweepConfig(), preset)
    assert f"matches at k = {k:g}" in sweep.reading_text(result)
    fixed = sweep.SweepConfig(length_bias=1.0)
    assert sweep.resolve_lean(fixed, base) == (fixed, None)


def test_the_label_stage_takes_a_simulated_labeler(micro_sweep, tmp_path):
    base, preset, _ = micro_sweep
    run = RunFolder(tmp_path / "run")
    for stage in ("data", "sft", "sample"):
        shutil.copytree(base.stage(stage), run.stage(stage))
    spec = "simulated:alignment=0.7,same_position=0.3"
    metrics = pipeline.run(replace(preset, labeler=spec), run, stages=("data", "sft", "sample", "label"))
    write_report(run, metrics)
    assert metrics["labeler"]["name"].startswith("simulated labeler")
    assert metrics["labeler"]["techniques"] == []  # Table 2 is about prompts: no prompts here
    rows = read_jsonl(run.labels("train"))
    assert rows and all(r["labeler"].startswith("simulated labeler") for r in rows)
    assert "simulated labeler" in run.report.read_text()


ONE_POINT = sweep.SweepConfig(alignments=(0.7,), gold=False, llm=False, human=False, position_panel=(), rl_seeds=(0,))


def test_a_point_made_with_another_rl_budget_is_retrained(micro_sweep, tmp_path):
    """`--rl-steps 2` into a sweep folder whose point was trained for 1 step: the point's RL stage is
    rerun for 2 steps, never its 1-step numbers returned as 2-step ones (a further RL seed's run goes
    through the same check, `_run_linked`)."""
    base, preset, _ = micro_sweep
    one = sweep.run_sweep(preset, tmp_path, replace(ONE_POINT, rl_steps=1), base=base)["points"][0]
    assert one["rl_steps"] == 1
    two = sweep.run_sweep(preset, tmp_path, replace(ONE_POINT, rl_steps=2), base=base)["points"][0]
    run = RunFolder(tmp_path / "points" / two["name"])
    assert two["rl_steps"] == 2 and read_json(run.done("rl"))["provenance"]["inputs"]["rl"]["max_steps"] == 2
    assert read_json(run.rl_curves("rlaif"))["step"][-1] == 2  # retrained: its curves reach step 2
    assert two["seconds"]["label"] == one["seconds"]["label"]  # the stages before RL are kept


def test_the_sft_summaries_follow_the_evaluation_settings(micro_sweep, tmp_path):
    """The SFT side of every win rate is the point's own evaluate stage, covered by its fingerprint: other
    generation settings (here sampling at temperature 1 instead of greedy decoding) give other SFT
    summaries, never the ones cached for the same posts."""
    base, preset, _ = micro_sweep
    greedy = sweep.run_sweep(preset, tmp_path, ONE_POINT, base=base)
    sampled = sweep.run_sweep(replace(preset, eval_temperature=1.0), tmp_path, ONE_POINT, base=base)
    assert sampled["sft_gold_score"] != greedy["sft_gold_score"] and sampled["sft_profile"] != greedy["sft_profile"]
    run = RunFolder(tmp_path / "points" / sampled["points"][0]["name"])
    assert read_json(run.done("evaluate"))["provenance"]["inputs"]["eval_temperature"] == 1.0
    assert sampled["points"][0]["seconds"]["rl"] == greedy["points"][0]["seconds"]["rl"]  # RL kept, evaluation rerun


def test_a_point_needs_the_base_stages_it_reuses(micro_sweep, tmp_path):
    """The LLM point reuses the base run's labels: a base without a finished label stage is a clear error."""
    base, preset, _ = micro_sweep
    partial = RunFolder(tmp_path / "base")
    for stage in ("data", "sft", "sample"):
        shutil.copytree(base.stage(stage), partial.stage(stage))
    llm = next(p for p in sweep.sweep_points(sweep.SweepConfig(length_bias=0.0), preset) if p.kind == "llm")
    with pytest.raises(pipeline.StageMismatchError, match="no finished 'label' stage"):
        sweep.run_point(llm, partial, tmp_path / "llm", preset)


# ----------------------------------------------------------------------------- RL seeds
def test_a_further_rl_seed_links_the_first_seeds_stages_and_trains_its_own_rl(micro_sweep):
    """Seed s of a point runs in points/<name>@seed<s> on its first seed's data ... reward stages (one link
    each, straight to the folder that holds the stage: the base's or the first seed's own) and trains RL."""
    base, preset, result = micro_sweep
    points, seeds = base.root / "sweep" / "points", sweep.SweepConfig().rl_seeds
    assert len(seeds) > 1
    for r in result["points"]:
        first = RunFolder(points / r["name"])
        assert [s["rl_seed"] for s in r["seeds"]] == list(seeds) and r["seeds"][0]["run"] == r["run"] == str(first)
        for seed in r["seeds"][1:]:
            run = RunFolder(seed["run"])
            assert run.root == points / f"{r['name']}@seed{seed['rl_seed']}"
            for stage in sweep.SHARED_BY_SEEDS:
                link = run.stage(stage)
                assert link.is_symlink() and link.resolve() == first.stage(stage).resolve()
                assert not (link.parent / os.readlink(link)).is_symlink()  # no link to a link
            # a simulated point's labels and reward models are its first seed's own, the others' the base run's
            owner = first if r["kind"] == "simulated" else base
            assert run.stage("reward").resolve() == owner.stage("reward").resolve()
            assert not owner.stage("reward").is_symlink()
            assert all(not run.stage(s).is_symlink() and run.done(s).exists() for s in ("rl", "evaluate"))
            assert set(seed["seconds"]) == {"rl", "evaluate"}
            written = read_json(run.preset)
            assert written["rl_seed"] == written["rl"]["seed"] == seed["rl_seed"]
            assert written["sft"]["seed"] == written["reward"]["seed"] == preset.seed
            assert read_json(run.done("rl"))["provenance"]["inputs"]["rl"]["seed"] == seed["rl_seed"]
        assert read_json(first.done("rl"))["provenance"]["inputs"]["rl"]["seed"] == seeds[0]


def test_rl_seeds_train_different_policies_from_the_same_sft_policy(micro_sweep):
    _, _, result = micro_sweep
    for r in result["points"]:
        runs = [RunFolder(s["run"]) for s in r["seeds"]]
        sft = [[x["sft"] for x in read_jsonl(run.summaries)] for run in runs]
        assert all(summaries == sft[0] for summaries in sft)
        curves = [read_json(run.rl_curves(sweep.POLICY[r["kind"]])) for run in runs]
        assert all(c != curves[0] for c in curves[1:]), r["name"]


def test_seed_spread_is_the_mean_and_range_of_the_seeds(micro_sweep):
    from rlaif_lib.method.evaluate import gold_preferences, win_rate
    from rlaif_lib.presets import toy_posts

    _, preset, result = micro_sweep
    for r in result["points"]:
        for key in ("win_rate_vs_sft", "gold_score", "win_rate_vs_rlhf"):
            assert r["seeds"][0].get(key) == r.get(key)  # the row's own numbers are its first seed's, as before
        for key in sweep.SPREAD_KEYS:
            values = [s[key]["value"] for s in r["seeds"] if key in s]
            if not values:
                assert r["kind"] == "human" and key == "win_rate_vs_rlhf" and key not in r["seed_spread"]
                continue
            assert len(values) == len(r["seeds"])
            assert r["seed_spread"][key] == {"mean": sum(values) / len(values), "min": min(values),
                                             "max": max(values), "n": len(values)}
    # each seed is judged against RLHF's policy of the same seed
    posts = toy_posts(preset, "eval")
    sim, human = (next(r for r in result["points"] if r["kind"] == kind) for kind in ("simulated", "human"))
    mine, theirs = (read_jsonl(RunFolder(r["seeds"][-1]["run"]).summaries) for r in (sim, human))
    prefs = gold_preferences([posts[x["id"]] for x in mine], [x["rlaif"] for x in mine], [x["rlhf"] for x in theirs])
    assert sim["seeds"][-1]["win_rate_vs_rlhf"] == win_rate(prefs)
    assert sim["win_rate_vs_rlhf_seed_mean"]["value"] == pytest.approx(sim["seed_spread"]["win_rate_vs_rlhf"]["mean"])
    # the table, the figure, the reading and sweep.json show the seed means
    n = len(sim["seeds"])
    table = sweep.sweep_table(result)
    assert f"| {sim['seed_spread']['win_rate_vs_sft']['mean']:.1%} |" in table and f"over {n} RL seeds" in table
    assert f"mean and range over {n} RL seeds" in sweep.plot_sweep(result)._suptitle.get_text()
    r = sweep.reading(result)
    assert r["rl_seeds"] == n and r["rlhf"]["win_rate_vs_sft"] == human["seed_spread"]["win_rate_vs_sft"]["mean"]
    assert f"means over {n} RL seeds" in sweep.reading_text(result)
    rho = result["spearman_alignment_win_rate"]
    assert rho == r["spearman_alignment_win_rate"] and (rho is None or f"is {rho:.2f}." in sweep.reading_text(result))


def test_the_spearman_correlation_ranks_the_seed_means():
    """On three ladder points whose first seeds rank the other way round from their seed means."""
    def row(alignment, wins):
        seeds = [{"rl_seed": i, "win_rate_vs_sft": {"value": w}} for i, w in enumerate(wins)]
        return {"kind": "simulated", "panel": "ladder", "alignment_all": {"value": alignment},
                "win_rate_vs_sft": seeds[0]["win_rate_vs_sft"], "seeds": seeds}

    rows = [row(0.6, [0.9, 0.1, 0.1]), row(0.7, [0.5, 0.5, 0.5]), row(0.8, [0.1, 0.9, 0.9])]
    assert sweep.spearman_alignment_win_rate(rows) == pytest.approx(1.0)
    assert sweep.spearman_alignment_win_rate(rows[:2]) is None  # too few points to rank


def test_an_old_format_sweep_reads_as_one_seed():
    """A sweep.json of one RL seed (rows without "seeds", as sweeps wrote before RL seeds) still tabulates,
    plots and reads."""
    committed = sweep.load_committed()
    old = dict(committed, points=[{k: v for k, v in r.items() if k not in ("seeds", "seed_spread",
                                                                           "win_rate_vs_rlhf_seed_mean")}
                                  for r in committed["points"]])
    old["config"] = {k: v for k, v in committed["config"].items() if k != "rl_seeds"}
    row = old["points"][0]
    v = row["win_rate_vs_sft"]["value"]
    assert sweep.seed_spread(row, "win_rate_vs_sft") == {"mean": v, "min": v, "max": v, "n": 1}
    assert sweep.n_rl_seeds(old) == 1
    table = sweep.sweep_table(old)
    assert f"| {v:.1%} | {100 * v:.1f}-{v:.1%} |" in table and "one RL seed per point" in table
    assert "one RL seed, 95% CI" in sweep.plot_sweep(old)._suptitle.get_text()
    assert "one RL run" in sweep.reading_text(old)


def test_the_cli_passes_the_rl_seeds(micro_sweep, monkeypatch, capsys):
    from rlaif_lib import cli

    base, _, result = micro_sweep
    configs = []
    monkeypatch.setattr(sweep, "run_sweep", lambda preset, out, config, **kwargs: configs.append(config) or result)
    out = str(base.root / "sweep")
    cli.main(["sweep", "--preset", "micro", "--out", out, "--rl-seeds", "3", "4", "--rl-steps", "1"])
    cli.main(["sweep", "--preset", "micro", "--out", out])
    assert configs == [replace(sweep.SweepConfig(), rl_seeds=(3, 4), rl_steps=1), sweep.SweepConfig()]
    assert "mean and range over 3 RL seeds" in capsys.readouterr().out


def test_rlhf_sits_on_the_ladder_at_its_labels_alignment():
    """RLHF's point is read against the simulated ladder interpolated at the alignment of its own labels."""
    def row(name, kind, alignment, win):
        return {"name": name, "kind": kind, "panel": "ladder", "requested": {"alignment": alignment},
                "alignment_all": {"value": alignment, "ci_low": alignment, "ci_high": alignment, "n": 300},
                "win_rate_vs_sft": {"value": win, "ci_low": win - 0.03, "ci_high": win + 0.03, "n": 200}}
    points = [row("sim-50", "simulated", 0.5, 0.5), row("sim-70", "simulated", 0.7, 0.6),
              row("sim-80", "simulated", 0.8, 0.7), row("human", "human", 0.75, 0.66)]
    result = {"points": points, "paper": {"alignment": {"PaLM 2 L": 78.0}}, "config": {"rl_seeds": [0]}}
    on = sweep.rlhf_on_curve(result)
    assert on["curve"] == pytest.approx(0.65) and on["neighbours"] == ["sim-70", "sim-80"]
    assert on["neighbours_range"] == [0.6, 0.7] and on["rlhf"] == 0.66
    assert "lies inside that span" in sweep.reading_text(result)
    points[-1]["win_rate_vs_sft"]["value"] = 0.9
    assert "lies above that span" in sweep.reading_text(result)


def test_the_reading_names_every_pair_that_breaks_the_ladders_rank():
    """Every pair of ladder points whose seed-mean win rates run against their alignments, adjacent or not, is a
    swap the reading names, with the gap between the printed rates, whether the seed ranges and the alignments'
    intervals overlap, and what each policy writes; a ladder in rank order has none."""
    def row(name, alignment, ci, wins, words=20.0, unfinished=0.0):
        seeds = [{"rl_seed": i, "win_rate_vs_sft": {"value": w}} for i, w in enumerate(wins)]
        return {"name": name, "kind": "simulated", "panel": "ladder", "requested": {"alignment": alignment},
                "alignment_all": {"value": alignment, "ci_low": ci[0], "ci_high": ci[1], "n": 380},
                "win_rate_vs_sft": seeds[0]["win_rate_vs_sft"], "seeds": seeds,
                "profile": {"length": words, "unfinished": unfinished}}

    points = [row("sim-50", 0.50, (0.45, 0.55), [0.48, 0.50, 0.52]),
              row("sim-55", 0.56, (0.51, 0.61), [0.45, 0.47, 0.49]),
              row("sim-70", 0.70, (0.65, 0.75), [0.66, 0.66, 0.66]),
              row("sim-gold", 0.90, (0.86, 0.94), [0.60, 0.61, 0.62], words=25.0, unfinished=0.075)]
    swaps = sweep.rank_swaps(points)
    assert [(w["lower"]["name"], w["higher"]["name"]) for w in swaps] == [("sim-50", "sim-55"), ("sim-70", "sim-gold")]
    assert swaps[0]["gap"] == pytest.approx(3.0) and swaps[0]["overlap"] and swaps[0]["alignment_overlap"]
    assert swaps[1]["gap"] == pytest.approx(5.0) and not swaps[1]["overlap"] and not swaps[1]["alignment_overlap"]
    result = {"points": points, "paper": {"alignment": {"PaLM 2 L": 78.0}}, "config": {"rl_seeds": [0, 1, 2]}}
    text = sweep.reading_text(result)
    assert "in 2 pairs." in text
    assert ("sim-55 (56.0% aligned): 47.0% (range 45.0-49.0%), 3.0 points below sim-50 (50.0% aligned: 50.0% "
            "(range 48.0-52.0%)); their seed ranges overlap, and so do their alignments' 95% intervals.") in text
    assert ("sim-gold (90.0% aligned): 61.0% (range 60.0-62.0%), 5.0 points below sim-70 (70.0% aligned: 66.0%); "
            "neither their seed ranges nor their alignments' 95% intervals overlap. Its first seed's policy writes "
            "25.0 words a summary and leaves 7.5% unfinished (cut off at the token limit); sim-70's 20.0 and "
            "0.0%.") in text
    in_order = [points[0], points[2]]
    assert sweep.rank_swaps(in_order) == [] and "order breaks" not in sweep.reading_text(dict(result, points=in_order))
    # seeds apart but alignments not: said as such; the gap is that of the printed rates (66.0 - 61.3, not 4.67)
    close = row("sim-72", 0.72, (0.67, 0.77), [0.612, 0.613, 0.614])
    (swap,) = sweep.rank_swaps([points[2], close])
    assert ("4.7 points below sim-70 (70.0% aligned: 66.0%); their seed ranges do not overlap, but their alignments' "
            "95% intervals do.") in sweep._swap_sentence(swap)
    # one RL seed: no seed ranges to compare; a row without the unfinished share: no profile clause, no crash
    one = [row("sim-50", 0.50, (0.45, 0.55), [0.50]), row("sim-55", 0.56, (0.51, 0.61), [0.45])]
    one[1]["profile"] = {"length": 14.0}
    (swap,) = sweep.rank_swaps(one)
    assert swap["overlap"] is None and sweep._swap_sentence(swap) == (
        "sim-55 (56.0% aligned): 45.0%, 5.0 points below sim-50 (50.0% aligned: 50.0%); their alignments' 95% "
        "intervals overlap.")


def test_the_profile_table_shows_what_over_optimization_looks_like():
    """The profile table has the columns where a reward model's blind spot shows: summaries left unfinished and
    repeated trigrams, beside length and the gold score."""
    table = sweep.profile_table(sweep.load_committed())
    header = table.splitlines()[0]
    for column in ("length", "unfinished", "repetition", "gold"):
        assert f"| {column} |" in header
