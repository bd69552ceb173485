"""Results that could be wrong without an error: an RL policy trained under other settings, the real-data
judge's prompt, committed tables of another labeler, labels joined to the wrong pair, and pairs whose
two summaries are the same text. No hub model is loaded; training and generation are stubbed where the
property is about the pipeline's bookkeeping."""
from dataclasses import replace
from pathlib import Path

import pytest

from rlaif_lib import data, pipeline
from rlaif_lib.experiments import precomputed
from rlaif_lib.method.labeling import LabelConfig
from rlaif_lib.presets import Preset, get_preset, with_seed
from rlaif_lib.run_folder import RunFolder, write_json, write_jsonl


# ----------------------------------------------------------------------------- RL: one unit per policy
@pytest.fixture
def fake_rl(monkeypatch):
    """train_rl stubbed: records (policy, learning rate) and writes curves.json; `stop_at` names a policy
    whose training is killed (an interrupted RL stage)."""
    from rlaif_lib.method import rl

    calls, stop_at = [], set()

    def train_rl(sft_path, reward_fn, prompts, out_dir, config, gold_fn=None, progress=True):
        name = Path(out_dir).name
        if name in stop_at:
            raise KeyboardInterrupt(f"killed while training {name}")
        calls.append((name, config.learning_rate))
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(out_dir) / "curves.json", {"step": [1], "reward": [config.learning_rate]})
        return Path(out_dir)

    monkeypatch.setattr(rl, "train_rl", train_rl)
    monkeypatch.setattr(pipeline, "policy_reward", lambda *args, **kwargs: None)
    return calls, stop_at


def test_an_rl_policy_trained_under_other_settings_is_retrained(fake_rl, tmp_path):
    """A policy of an unfinished RL stage is reused only if it was trained under the current RL-stage
    fingerprint; `force=["rl"]` clears every policy and its record."""
    calls, stop_at = fake_rl
    micro = get_preset("micro", rl_policies=("rlaif", "rlhf"))
    run = RunFolder(tmp_path)
    run.rl_prompts.parent.mkdir(parents=True)
    write_jsonl(run.rl_prompts, [{"id": "sft-00000", "prompt": "POST: p\n\nTL;DR:"}])

    stop_at.add("rlhf")
    with pytest.raises(KeyboardInterrupt):  # the run stops in the middle of RL: rlaif done, rlhf not
        pipeline.stage_rl(with_seed(micro), run)
    assert calls == [("rlaif", micro.rl.learning_rate)] and not run.rl_curves("rlhf").exists()

    stop_at.clear()
    changed = replace(micro, rl=replace(micro.rl, learning_rate=micro.rl.learning_rate * 10))
    calls.clear()
    metrics = pipeline.stage_rl(with_seed(changed), run)
    lr = changed.rl.learning_rate
    assert sorted(calls) == [("rlaif", lr), ("rlhf", lr)]  # both policies under the new settings
    assert metrics["rlaif"]["reward"] == metrics["rlhf"]["reward"] == lr

    calls.clear()
    pipeline.stage_rl(with_seed(changed), run)  # same settings: every policy is reused
    assert calls == []

    run.rl_provenance("rlaif").unlink()  # a finished policy with no record of its settings
    pipeline.stage_rl(with_seed(changed), run)
    assert calls == [("rlaif", lr)]

    pipeline.run(changed, tmp_path, stages=["data"], force=["rl"])
    assert not run.rl_policy("rlaif").exists() and not run.rl_policy("rlhf").exists()


# ----------------------------------------------------------------------------- the real-data judge
def test_real_data_judge_labels_zero_shot_when_the_label_stage_uses_exemplars(tiny_lm, tmp_path, monkeypatch):
    """The label stage's exemplars belong to the label stage: the real-data judge gets the label config
    with shots=0 (same preamble, CoT and the rest), so a few-shot label stage never stops evaluation."""
    from rlaif_lib.method import evaluate, sft

    run = RunFolder(tmp_path / "run")
    for stage in ("data", "evaluate"):
        run.stage(stage).mkdir(parents=True)
    prompt = "SUBREDDIT: r/x\n\nTITLE: t {i}\n\nPOST: my boyfriend forgot {i}\n\nTL;DR:"
    write_jsonl(run.eval_prompts, [{"id": f"eval-{i}", "reference": "he forgot", "prompt": prompt.format(i=i)}
                                   for i in range(3)])
    monkeypatch.setattr(sft, "generate", lambda path, prompts, **kwargs: [[f" {Path(path).name} said {i}"]
                                                                         for i in range(len(prompts))])
    configs = []
    real_judge = evaluate.ai_judge_preferences

    def spy(prompts, a, b, judge, config=None, cache_path=None):
        configs.append(config)
        return real_judge(prompts, a, b, judge, config, cache_path=cache_path)

    monkeypatch.setattr(evaluate, "ai_judge_preferences", spy)
    label = LabelConfig(preamble="base", shots=1, chat_template=False, batch_size=4)
    preset = get_preset("micro", comparisons=str(tmp_path / "comparisons"), labeler=tiny_lm, label=label,
                        rl_policies=("rlaif", "rlhf"))
    metrics = pipeline.stage_evaluate(with_seed(preset), run)
    assert set(metrics["win_rate"]) == {"rlaif_vs_sft", "rlhf_vs_sft", "rlaif_vs_rlhf"}
    assert configs and all(c == replace(label, shots=0) for c in configs)


# ----------------------------------------------------------------------------- committed Tables 2 and 14
def test_committed_tables_belong_to_the_label_stage_they_were_measured_by():
    """The committed Tables 2 and 14 of tiny are shown only for tiny's labeler and label config (and pairs),
    whether or not the run's own label stage computes the tables."""
    from dataclasses import asdict

    tiny = get_preset("tiny")
    committed = precomputed.committed_tables(tiny)
    assert committed is not None
    with_tables = replace(tiny, techniques=Preset().techniques, self_consistency=Preset().self_consistency)
    assert precomputed.committed_tables(with_tables) == committed  # `--tables`: the settings the file was measured with
    assert precomputed.committed_tables(replace(tiny, labeler="Qwen/Qwen2.5-0.5B-Instruct")) is None
    assert precomputed.committed_tables(replace(tiny, label=replace(tiny.label, shots=0))) is None
    assert precomputed.committed_tables(replace(tiny, label=replace(tiny.label, preamble="base"))) is None
    old = asdict(with_seed(tiny))
    old.pop("label")  # a preset.json that cannot say which prompt labelled its pairs
    assert precomputed.committed_tables(old) is None


# ----------------------------------------------------------------------------- labels joined to pairs
def _pair(post_id, a, b, choice):
    return {"id": post_id, "post": "my boyfriend forgot", "summary_a": a, "summary_b": b, "choice": choice,
            "confidence": 2 if choice == 0 else 8}


def test_alignment_joins_labels_to_pairs_by_pair_id_when_a_post_has_several_comparisons():
    """Two comparisons of one post: each label counts against its own pair, in any order."""
    from rlaif_lib.method.labeling import alignment

    pairs = [_pair("p1", "he forgot", "the dog", 0), _pair("p1", "the cat", "he forgot it", 1)]
    labels = [{"id": "p1", "pair_id": data.pair_id(p), "p_a": 0.9 if p["choice"] == 0 else 0.1} for p in pairs]
    assert alignment(labels, pairs)["value"] == 1.0
    assert alignment(labels[::-1], pairs)["value"] == 1.0
    with pytest.raises(KeyError):
        alignment(labels[:1] + [dict(labels[1], pair_id="p1#other")], pairs)
    bare = [{"id": x["id"], "p_a": x["p_a"]} for x in labels]
    assert alignment(bare, pairs)["value"] == 1.0  # label_pairs' order, the pairs' order
    with pytest.raises(ValueError, match="pair_id"):  # another order, and only post ids to join on
        alignment(bare[::-1], pairs + [_pair("p2", "x", "y", 0)])


def test_what_the_labeler_tracks_checks_labels_against_pairs_by_pair_id():
    """Labels of two comparisons of one post, in the other order, are refused: same post ids, other pairs."""
    from rlaif_lib.experiments import analysis

    pairs = [_pair("p1", "he forgot", "the dog", 0), _pair("p1", "the cat", "he forgot it", 1)]
    labels = [{"id": "p1", "pair_id": data.pair_id(p), "p_a": 0.5, "probs_ab": [0.5, 0.5], "probs_ba": [0.5, 0.5]}
              for p in pairs]
    with pytest.raises(ValueError, match="same order"):
        analysis.what_the_labeler_tracks(labels[::-1], pairs, {})


# ----------------------------------------------------------------------------- duplicate summaries
def test_sampled_pairs_never_hold_two_summaries_that_differ_only_by_whitespace(monkeypatch):
    """Samples are deduplicated as the pairs hold them (`data.normalize_summary`), so no pair compares a
    summary with itself."""
    from rlaif_lib.method import sft

    samples = [[" he forgot", "he forgot", "he forgot \n"], [" he forgot", "he forgot", "the dog ran"]]
    monkeypatch.setattr(sft, "generate", lambda policy, prompts, **kwargs: samples)
    for seed in range(8):
        pairs = sft.sample_pairs("policy", ["p0", "p1"], ["post-0", "post-1"], n_samples=3, seed=seed, progress=False)
        assert [p["id"] for p in pairs] == ["post-1"]  # post-0's samples are one summary
        a, b = pairs[0]["summary_a"], pairs[0]["summary_b"]
        assert {data.normalize_summary(a), data.normalize_summary(b)} == {"he forgot", "the dog ran"}
