"""The reward model in a plain PyTorch loop (method/reward_loop.py) takes the same steps as TRL's trainer."""
import random

import pytest
import torch

from rlaif_lib.method import reward_loop
from rlaif_lib.method.reward import RewardStageConfig, reward_trainer
from rlaif_lib.method.reward_loop import logged_losses, train_reward_model_by_hand

from .conftest import random_text
from .test_reward import synthetic_pairs

TOLERANCE = 1e-6  # on a CPU the two agree bit for bit (measured: 0.0); a step here moves weights by ~1e-2
SOFT_P = [0.8, 0.3, 0.6, 0.1, 0.95, 0.4]


@pytest.fixture(scope="module")
def tiny_policy(tmp_path_factory):
    """Folder of a random 2-layer, 32-wide model of the kit's policy architecture (Llama-style), no hub."""
    from rlaif_lib.policy import TinyPolicyConfig, build_model, train_tokenizer

    torch.manual_seed(0)
    rng = random.Random(0)
    tokenizer = train_tokenizer([random_text(rng, 30) for _ in range(200)] + ["SUBREDDIT: r/x\n\nTITLE: \n\nPOST: \n\nTL;DR:"], 400)
    model = build_model(TinyPolicyConfig(arch="llama", n_layer=2, n_embd=32, n_head=2), tokenizer)
    path = tmp_path_factory.mktemp("tiny_policy")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def by_trainer(path, pairs, p_a, config, tmp_path):
    """(weights, per-step losses) of `reward_trainer(...).train()`, the TRL run."""
    trainer = reward_trainer(path, pairs, p_a, tmp_path, config, progress=False)
    losses, compute_loss = [], trainer.compute_loss

    def recording(model, inputs, *args, **kwargs):
        loss = compute_loss(model, inputs, *args, **kwargs)
        losses.append(loss.item())
        return loss

    trainer.compute_loss = recording
    trainer.train()
    return trainer.model.state_dict(), losses


def by_hand(path, pairs, p_a, config):
    (model, _), losses = train_reward_model_by_hand(path, pairs, p_a, config)
    return model.state_dict(), losses


def max_difference(weights_a, weights_b) -> float:
    assert weights_a.keys() == weights_b.keys()
    return max((weights_a[k] - weights_b[k]).abs().max().item() for k in weights_a)


def initial_weights(path, config):
    from rlaif_lib.models import load_sequence_classifier

    torch.manual_seed(config.seed)
    return load_sequence_classifier(path, num_labels=1, train=True)[0].state_dict()


def test_one_step_equals_the_trainers_step(tiny_policy, tmp_path, monkeypatch):
    """One batch, one step. The kit's warm-up starts at learning rate 0 (its first step moves no weight),
    so here the warm-up is switched off in both, to compare a step that moves the weights."""
    monkeypatch.setattr(reward_loop, "WARMUP_STEPS", 0)
    pairs, config = synthetic_pairs(4, seed=1), RewardStageConfig(epochs=1, batch_size=4, learning_rate=1e-2)
    trainer = reward_trainer(tiny_policy, pairs, SOFT_P[:4], tmp_path, config, progress=False)
    trainer.args.warmup_steps = 0
    trainer.train()
    hand, hand_losses = by_hand(tiny_policy, pairs, SOFT_P[:4], config)
    assert len(hand_losses) == trainer.state.global_step == 1
    assert hand_losses[0] == pytest.approx(trainer.state.log_history[-1]["train_loss"], abs=1e-6)
    assert max_difference(hand, initial_weights(tiny_policy, config)) > 1e-3  # the step did move the weights
    assert max_difference(hand, trainer.model.state_dict()) <= TOLERANCE


@pytest.mark.parametrize("loss", ["soft", "hard"])
def test_the_first_steps_equal_the_trainers(loss, tiny_policy, tmp_path):
    """The kit's own schedule (warm-up from 0, cosine), 2 epochs of a full and a partial batch: the batch order
    of each epoch, every step's loss and the weights at the end equal the trainer's. "hard" is TRL's own loss."""
    pairs, config = synthetic_pairs(6, seed=1), RewardStageConfig(loss=loss, epochs=2, batch_size=4, learning_rate=1e-2)
    trainer_weights, trainer_losses = by_trainer(tiny_policy, pairs, SOFT_P, config, tmp_path)
    hand_weights, hand_losses = by_hand(tiny_policy, pairs, SOFT_P, config)
    assert len(hand_losses) == len(trainer_losses) == 4
    assert hand_losses == pytest.approx(trainer_losses, abs=1e-6)
    assert max_difference(hand_weights, initial_weights(tiny_policy, config)) > 1e-3
    assert max_difference(hand_weights, trainer_weights) <= TOLERANCE


def test_a_loop_that_ignores_the_soft_label_would_fail(tiny_policy, tmp_path):
    """Hard labels (the argmax of p) in the loop take other steps than the trainer on soft labels: the
    comparison above sees p, by a margin of orders of magnitude over its tolerance."""
    pairs, config = synthetic_pairs(6, seed=1), RewardStageConfig(epochs=2, batch_size=4, learning_rate=1e-2)
    trainer_weights, trainer_losses = by_trainer(tiny_policy, pairs, SOFT_P, config, tmp_path)
    hard_weights, hard_losses = by_hand(tiny_policy, pairs, [float(p > 0.5) for p in SOFT_P], config)
    assert max_difference(hard_weights, trainer_weights) > 1000 * TOLERANCE
    assert hard_losses != pytest.approx(trainer_losses, abs=1e-3)


def test_training_moves_the_margin_towards_the_labels(tiny_policy):
    """Separable pairs ("good" against "bad"), soft labels 0.9 / 0.1: the loss falls and the margin
    r_A - r_B takes the labels' sign on held-out pairs."""
    from rlaif_lib.method.reward import preference_accuracy

    train, test = synthetic_pairs(48, seed=1), synthetic_pairs(40, seed=2)
    p_a = [0.9 if pair["choice"] == 0 else 0.1 for pair in train]
    reward_model, losses = train_reward_model_by_hand(tiny_policy, train, p_a, RewardStageConfig(
        epochs=4, batch_size=8, learning_rate=1e-2))
    assert len(losses) == 24
    assert sum(losses[-6:]) / 6 < losses[0] - 0.1, losses
    assert preference_accuracy(reward_model, test)["value"] >= 0.8


def test_logged_losses_average_like_the_trainers_log():
    curve = logged_losses([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], every=2)
    assert curve == [{"step": 2, "loss": 1.5}, {"step": 4, "loss": 3.5}, {"step": 6, "loss": 5.5}]
