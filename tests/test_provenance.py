"""A run folder never mixes results made from different
settings, and preset.seed reaches every stage. Only the data stage runs here (seconds)."""
import json
from dataclasses import replace

import pytest

from rlaif_lib import pipeline
from rlaif_lib.presets import get_preset, with_seed
from rlaif_lib.run_folder import read_json


def test_fingerprints_cover_each_stage_and_everything_upstream():
    micro = with_seed(get_preset("micro"))
    fps = {s: pipeline.provenance(micro, s) for s in pipeline.STAGES}
    assert fps["label"]["upstream"] == {"sample": fps["sample"]["fingerprint"]}
    assert fps["label"]["inputs"]["labeler"] == micro.labeler and "n_sft" not in fps["label"]["inputs"]
    epochs = with_seed(replace(micro, sft=replace(micro.sft, epochs=2.0)))
    changed = [s for s in pipeline.STAGES if pipeline.provenance(epochs, s)["fingerprint"] != fps[s]["fingerprint"]]
    assert changed == ["sft", "sample", "label", "reward", "rl", "evaluate"]  # SFT and everything after it
    rl_only = with_seed(replace(micro, rl=replace(micro.rl, learning_rate=1e-4)))
    assert [s for s in pipeline.STAGES
            if pipeline.provenance(rl_only, s)["fingerprint"] != fps[s]["fingerprint"]] == ["rl", "evaluate"]
    seed = with_seed(replace(micro, seed=1))
    assert all(pipeline.provenance(seed, s)["fingerprint"] != fps[s]["fingerprint"] for s in pipeline.STAGES)


def test_an_rl_seed_changes_the_rl_stage_only_and_keeps_old_fingerprints():
    """`rl_seed` (a sweep's further RL seeds) reaches the RL config alone; unset, or equal to the run's seed, every
    fingerprint is the one a run folder made before the field existed records (its preset.json has no rl_seed)."""
    from dataclasses import asdict

    micro = with_seed(get_preset("micro"))
    fps = {s: pipeline.provenance(micro, s)["fingerprint"] for s in pipeline.STAGES}
    old_json = {k: v for k, v in json.loads(json.dumps(asdict(micro), default=str)).items() if k != "rl_seed"}
    assert {s: pipeline.provenance(old_json, s)["fingerprint"] for s in pipeline.STAGES} == fps
    same = with_seed(replace(get_preset("micro"), rl_seed=micro.seed))
    assert {s: pipeline.provenance(same, s)["fingerprint"] for s in pipeline.STAGES} == fps
    other = with_seed(replace(get_preset("micro"), rl_seed=5))
    assert other.rl.seed == 5 and other.sft.seed == other.reward.seed == other.seed == 0
    assert [s for s in pipeline.STAGES if pipeline.provenance(other, s)["fingerprint"] != fps[s]] == ["rl", "evaluate"]


def test_a_changed_preset_stops_naming_the_stage_and_fields_and_force_reruns(tmp_path):
    micro = get_preset("micro")
    pipeline.run(micro, tmp_path, stages=["data"])
    done = read_json(tmp_path / "data" / "done.json")
    assert done["provenance"]["inputs"]["n_eval_posts"] == 24 and len(done["provenance"]["fingerprint"]) == 16
    preset_json = (tmp_path / "preset.json").read_text()
    # artefacts of later stages, to see what --force clears and keeps
    (tmp_path / "rl" / "rlaif").mkdir(parents=True)
    (tmp_path / "rl" / "rlaif" / "curves.json").write_text("{}")
    (tmp_path / "label").mkdir()
    (tmp_path / "label" / "cache.jsonl").write_text("")

    fewer = replace(micro, n_eval_posts=10)
    for stages in (["data"], ["sft"]):  # whichever stage is asked for, the folder never mixes presets
        with pytest.raises(pipeline.StageMismatchError, match=r"stage 'data' .*n_eval_posts: 24 -> 10.*--force data"):
            pipeline.run(fewer, tmp_path, stages=stages)
    assert (tmp_path / "preset.json").read_text() == preset_json  # never overwritten by another preset
    assert read_json(tmp_path / "data" / "done.json") == done

    pipeline.run(fewer, tmp_path, stages=["data"], force=["data"])
    assert read_json(tmp_path / "data" / "done.json")["n_eval"] == 10
    assert read_json(tmp_path / "preset.json")["n_eval_posts"] == 10
    assert not (tmp_path / "rl" / "rlaif").exists()  # everything downstream of the forced stage is cleared
    assert (tmp_path / "label" / "cache.jsonl").exists()  # content-keyed caches are kept
    with pytest.raises(ValueError, match="unknown stages to force"):
        pipeline.run(fewer, tmp_path, stages=["data"], force=["bogus"])


def test_an_old_done_json_without_provenance_is_not_reused(tmp_path):
    micro = get_preset("micro")
    pipeline.run(micro, tmp_path, stages=["data"])
    done = read_json(tmp_path / "data" / "done.json")
    done.pop("provenance")
    (tmp_path / "data" / "done.json").write_text(json.dumps(done))
    with pytest.raises(pipeline.StageMismatchError, match="records no inputs"):
        pipeline.run(micro, tmp_path, stages=["data"])


def test_cli_mismatch_is_one_line_and_force_reruns(tmp_path, capsys):
    from rlaif_lib import cli

    out = str(tmp_path / "run")
    cli.main(["run", "--preset", "micro", "--out", out, "--stages", "data"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--preset", "tiny", "--out", out, "--stages", "data"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert err.startswith("rlaif: error: stage 'data'") and "n_sft: 400 -> 1000" in err
    cli.main(["run", "--preset", "tiny", "--out", out, "--stages", "data", "--force", "data"])
    assert read_json(tmp_path / "run" / "preset.json")["name"] == "tiny"


def test_preset_seed_reaches_every_stage_config(tmp_path):
    seeded = with_seed(replace(get_preset("micro"), seed=7))
    assert seeded.sft.seed == seeded.reward.seed == seeded.rl.seed == 7
    pipeline.run(replace(get_preset("micro"), seed=7), tmp_path, stages=["data"])
    written = read_json(tmp_path / "preset.json")
    assert written["seed"] == written["sft"]["seed"] == written["reward"]["seed"] == written["rl"]["seed"] == 7
    assert read_json(tmp_path / "data" / "done.json")["provenance"]["inputs"]["seed"] == 7


def test_reward_head_is_initialised_after_seeding(tiny_lm, tmp_path):
    """The reward head is random: it must come from the config's seed, not from whatever the global
    RNG state happens to be (e.g. after other stages ran in the same process)."""
    import torch
    from safetensors.torch import load_file

    from rlaif_lib.method.reward import RewardStageConfig, train_reward_model

    pairs = [{"prompt": f"SUBREDDIT: r/x\n\nTITLE: t\n\nPOST: my boyfriend forgot {i}\n\nTL;DR:",
              "summary_a": " he forgot my birthday", "summary_b": " the dog ran away"} for i in range(8)]
    config = RewardStageConfig(epochs=1.0, batch_size=4, max_length=128, seed=3)
    weights = []
    for i, global_seed in enumerate((11, 12)):
        torch.manual_seed(global_seed)  # a different global RNG state before each training
        path = train_reward_model(tiny_lm, pairs, [0.9] * 8, tmp_path / f"rm{i}", config, progress=False)
        weights.append(load_file(str(path / "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_every_preset_field_is_a_stage_input_or_said_not_to_be():
    """A field no fingerprint covers would let a run folder's finished stage be reused after it changed
    (Table 14's settings and Table 3's ladder once were such fields)."""
    from dataclasses import fields

    from rlaif_lib.presets import Preset
    from rlaif_lib.provenance import STAGE_INPUTS

    covered = {f for inputs in STAGE_INPUTS.values() for f in inputs}
    # said so in provenance.py; rl_seed reaches the rl stage's fingerprint as its `rl` input's seed
    assert [f.name for f in fields(Preset) if f.name not in covered] == ["name", "device", "rl_seed"]
