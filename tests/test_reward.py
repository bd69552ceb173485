"""Reward model: the paper's soft loss, and that training learns real signal and not noise."""
import math
import random

import pytest
import torch

from rlaif_lib.method.reward import (
    RewardStageConfig,
    calibration_curve,
    load_reward_model,
    preference_accuracy,
    reward_rows,
    reward_text,
    soft_preference_loss,
    train_reward_model,
)

from .conftest import random_text


def test_soft_loss_matches_hand_computed_value():
    r_a, r_b, p = torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([0.7])
    s = 1 / (1 + math.exp(-1.0))  # sigmoid(r_a - r_b)
    expected = -(0.7 * math.log(s) + 0.3 * math.log(1 - s))
    assert soft_preference_loss(r_a, r_b, p).item() == pytest.approx(expected, rel=1e-6)


def test_soft_loss_with_hard_label_is_the_standard_pairwise_loss():
    r_a, r_b = torch.randn(16), torch.randn(16)
    standard = -torch.nn.functional.logsigmoid(r_a - r_b).mean()
    assert soft_preference_loss(r_a, r_b, torch.ones(16)).item() == pytest.approx(standard.item(), rel=1e-6)
    # p = 0 is the same loss with the roles swapped
    swapped = -torch.nn.functional.logsigmoid(r_b - r_a).mean()
    assert soft_preference_loss(r_a, r_b, torch.zeros(16)).item() == pytest.approx(swapped.item(), rel=1e-6)


def test_reward_rows_variants():
    pairs = [{"prompt": "P", "summary_a": "a", "summary_b": "b"}] * 3
    soft = reward_rows(pairs, [0.8, 0.5, 0.1], "soft")
    assert [r["p"] for r in soft] == [0.8, 0.5, 0.1] and all(r["chosen"] == "a" for r in soft)
    hard = reward_rows(pairs, [0.8, 0.5, 0.1], "hard")
    assert [(r["chosen"], r["rejected"]) for r in hard] == [("a", "b"), ("b", "a")]  # the tie is dropped
    margin = reward_rows(pairs, [0.8, 0.5, 0.1], "margin")
    assert [r["margin"] for r in margin] == pytest.approx([0.6, 0.8])


def synthetic_pairs(n, seed):
    """Pairs where the better summary says 'good' and the worse one says 'bad' (a clean signal)."""
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        good, bad = random_text(rng, 6) + " good", random_text(rng, 6) + " bad"
        a_is_good = rng.random() < 0.5
        pairs.append({"id": str(i), "prompt": "SUBREDDIT: r/x\n\nTITLE: " + random_text(rng, 4) + "\n\nPOST: "
                      + random_text(rng, 20) + "\n\nTL;DR:", "summary_a": " " + (good if a_is_good else bad),
                      "summary_b": " " + (bad if a_is_good else good), "choice": 0 if a_is_good else 1})
    return pairs


@pytest.fixture(scope="module")
def trained(tiny_lm, tmp_path_factory):
    train, test = synthetic_pairs(160, seed=1), synthetic_pairs(100, seed=2)
    clean_p = [0.9 if p["choice"] == 0 else 0.1 for p in train]  # soft labels, clean direction
    shuffled_p = clean_p[:]
    random.Random(3).shuffle(shuffled_p)
    config = RewardStageConfig(epochs=6, learning_rate=2e-3, batch_size=16)
    out = tmp_path_factory.mktemp("rm")
    clean = train_reward_model(tiny_lm, train, clean_p, out / "clean", config, progress=False)
    noise = train_reward_model(tiny_lm, train, shuffled_p, out / "shuffled", config, progress=False)
    return test, clean, noise


def test_reward_model_learns_clean_preferences(trained):
    test, clean, _ = trained
    acc = preference_accuracy(load_reward_model(clean), test)
    assert acc["value"] >= 0.9, acc
    assert acc["n"] == 100 and acc["ci_low"] <= acc["value"] <= acc["ci_high"]


def test_reward_model_on_shuffled_labels_stays_near_chance(trained):
    test, _, noise = trained
    acc = preference_accuracy(load_reward_model(noise), test)
    assert 0.3 <= acc["value"] <= 0.7, acc


@pytest.mark.parametrize("backbone", ["tiny_lm", "minilm"])
def test_training_and_scoring_see_the_same_tokens(backbone, tiny_lm, tmp_path):
    """RewardTrainer appends EOS when it trains; RL scoring must append it too (see `reward_text` in reward.py).
    Checked for the policy-initialised reward model and for the MiniLM encoder backbone."""
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    from rlaif_lib.models import minilm_path

    path = tiny_lm if backbone == "tiny_lm" else str(minilm_path())
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    tokenizer = load_reward_model(path)[1]
    pair = synthetic_pairs(1, seed=5)[0]
    trainer = RewardTrainer(model=model, processing_class=tokenizer,
                            args=RewardConfig(output_dir=str(tmp_path), use_cpu=True, report_to=[]),
                            train_dataset=Dataset.from_list([{"prompt": pair["prompt"], "chosen": pair["summary_a"],
                                                              "rejected": pair["summary_b"]}]))
    trained_ids = trainer.train_dataset[0]["chosen_ids"]
    scored_ids = tokenizer(reward_text(pair["prompt"], pair["summary_a"], tokenizer))["input_ids"]
    assert trained_ids == scored_ids
    assert tokenizer.eos_token_id in scored_ids[-2:]


def test_minilm_backbone_is_one_option_away(tmp_path):
    train = synthetic_pairs(16, seed=7)
    config = RewardStageConfig(backbone="all-minilm-l6-v2", epochs=1, learning_rate=5e-5, batch_size=8)
    path = train_reward_model("unused-when-backbone-is-set", train, [1.0] * 16, tmp_path / "rm", config, progress=False)
    rm = load_reward_model(path)
    assert rm[0].config.model_type == "bert"
    assert preference_accuracy(rm, train)["n"] == 16


def test_calibration_curve_bins():
    pairs = [{"choice": 0}] * 5 + [{"choice": 1}] * 5
    curve = calibration_curve([0.9] * 5 + [0.1] * 5, pairs, n_bins=2)
    assert curve["predicted"] == pytest.approx([0.1, 0.9]) and curve["observed"] == [0.0, 1.0]
