"""The seed-spread study's arithmetic, its table and its CLI's refusal (the runs themselves are `make seeds`)."""
import pytest

from rlaif_lib.experiments import seeds


def _metrics(rlhf, alignment, words=20.0):
    return {"labeler": {"alignment": alignment, "same_position_pct": 40.0},
            "reward_model": {"accuracy_human": 0.6}, "reward_model_rlhf": {"accuracy_human": 0.65},
            "win_rate": {"rlhf_vs_sft": {"value": rlhf}, "rlaif_vs_sft": {"value": 0.6}},
            "mean_words": {"sft": 17.0, "rlhf": words}, "human_rater_agreement": 0.75}


def test_headline_numbers_read_metrics_json_and_skip_what_is_missing():
    h = seeds.headline_numbers(_metrics(0.7, 0.55))
    assert h["RLHF vs SFT"] == 0.7 and h["labeler alignment"] == 0.55 and h["words per summary, RLHF"] == 20.0
    assert "d-RLAIF vs SFT" not in h and "gold score, SFT" not in h


def test_spread_and_inside_follow_the_numbers():
    per_seed = {str(s): seeds.headline_numbers(_metrics(r, a)) for s, (r, a) in enumerate([(0.6, 0.5), (0.7, 0.6), (0.8, 0.55)])}
    result = {"seeds": [0, 1, 2], "spread": {n: seeds.spread([h[n] for h in per_seed.values()]) for n in per_seed["0"]}}
    s = result["spread"]["RLHF vs SFT"]
    assert s["mean"] == pytest.approx(0.7) and (s["min"], s["max"], s["n"]) == (0.6, 0.8, 3)
    assert seeds.inside(_metrics(0.75, 0.52), result)["RLHF vs SFT"] is True
    assert seeds.inside(_metrics(0.85, 0.52), result)["RLHF vs SFT"] is False
    table = seeds.spread_table(_metrics(0.85, 0.52), result)
    assert "| RLHF vs SFT | 85.0% | 70.0% | 60.0% to 80.0% |" in table and "mean of 3 seeds" in table


def test_the_cli_refuses_a_single_seed(capsys):
    from rlaif_lib.cli import main

    with pytest.raises(SystemExit):
        main(["seeds", "--preset", "micro", "--n", "1"])
    assert "at least 2" in capsys.readouterr().err


def test_the_report_shows_the_committed_spread_of_its_own_preset_only(tmp_path, monkeypatch):
    import json
    import shutil
    from pathlib import Path

    from rlaif_lib.report import write_report

    example = Path(__file__).resolve().parent.parent / "examples" / "run"
    run = tmp_path / "run"
    shutil.copytree(example, run)
    metrics = json.loads((run / "metrics.json").read_text())
    study = {"preset": metrics["preset"], "seeds": [0, 1], "measured": "a test study", "simulated": True,
             "spread": {"RLHF vs SFT": seeds.spread([0.61, 0.69])}}
    monkeypatch.setattr(seeds, "COMMITTED", tmp_path / "seeds.json")
    (tmp_path / "seeds.json").write_text(json.dumps(study))
    text = write_report(run, metrics).read_text()
    assert "How far these numbers move with the seed (PRECOMPUTED)" in text and "| 61.0% to 69.0% |" in text
    assert "SIMULATED raters and judge" in text
    (tmp_path / "seeds.json").write_text(json.dumps(dict(study, preset="colab")))
    assert "move with the seed" not in write_report(run, metrics).read_text()


def test_a_committed_study_is_tiny_and_says_when_and_how_long(tmp_path):
    from rlaif_lib.experiments.precomputed import commit_tiny
    from rlaif_lib.run_folder import read_json

    with pytest.raises(ValueError, match="only a study of the tiny preset"):
        commit_tiny({"preset": "micro", "seconds": 3.0}, tmp_path / "x.json", "rlaif seeds")
    saved = commit_tiny({"preset": "tiny", "seconds": {"total": 1571.1}, "workers": 2}, tmp_path / "x.json",
                        "rlaif sweep --preset tiny")
    assert saved["measured"].startswith("rlaif sweep --preset tiny, ") and "1571 s wall" in saved["measured"]
    assert saved["measured"].endswith("2 workers") and read_json(tmp_path / "x.json") == saved
