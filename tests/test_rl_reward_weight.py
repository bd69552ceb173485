"""The paper's (1 - beta) reward weight is applied exactly once. The reward a
policy's trainer optimises is sum(weight_i * reward_fn_i); with the flag on it must be (1 - beta) * r,
not (1 - beta)^2 * r, for the reward-model policies and for d-RLAIF alike."""
from dataclasses import replace

import numpy as np
import pytest

from rlaif_lib.method import labeling, reward, rewards, rl
from rlaif_lib.run_folder import RunFolder


class FakeRLOOTrainer:
    """Records what train_rl hands to TRL, trains nothing."""

    seen = {}

    def __init__(self, model, reward_funcs, args, train_dataset):
        FakeRLOOTrainer.seen = {"funcs": reward_funcs, "weights": list(args.reward_weights)}
        self.args = args

        class State:
            log_history = []
            global_step = 0

        class Tokenizer:
            def save_pretrained(self, path):
                pass

        self.state, self.processing_class = State(), Tokenizer()

    def train(self):
        pass

    def is_world_process_zero(self):
        return True

    def save_model(self, path):
        import os

        os.makedirs(path, exist_ok=True)


@pytest.fixture
def fake_models(monkeypatch):
    """A reward model that scores 2.0 and a d-RLAIF labeler that scores 0.5, through the real wrappers."""
    import trl

    monkeypatch.setattr(reward, "load_reward_model", lambda path: "rm")
    monkeypatch.setattr(reward, "score", lambda rm, prompts, completions: np.full(len(completions), 2.0))
    monkeypatch.setattr(labeling, "make_drlaif_reward",
                        lambda labeler, label: lambda prompts, completions, **kw: [0.5] * len(completions))
    monkeypatch.setattr(trl, "RLOOTrainer", FakeRLOOTrainer)


@pytest.mark.parametrize("policy, r", [("rlaif", 2.0), ("rlhf", 2.0), ("drlaif", 0.5)])
@pytest.mark.parametrize("flag", [True, False])
def test_one_minus_beta_is_applied_exactly_once(fake_models, tmp_path, policy, r, flag):
    config = rl.RLStageConfig(beta=0.2, weight_reward_by_one_minus_beta=flag, max_steps=1)
    fn = rewards.policy_reward(policy, RunFolder(tmp_path), config, "labeler", labeling.LabelConfig())
    rl.train_rl(tmp_path / "sft", fn, [{"prompt": "p", "id": "x"}], tmp_path / "out", config, progress=False)
    seen = FakeRLOOTrainer.seen
    optimised = sum(w * f(["p"], ["c"], id=["x"])[0] for w, f in zip(seen["weights"], seen["funcs"]))
    assert optimised == pytest.approx((1 - 0.2) * r if flag else r)
    assert rl.reward_weight(config) == pytest.approx(0.8 if flag else 1.0)


def test_the_gold_reward_rides_along_with_weight_zero(fake_models, tmp_path):
    config = replace(rl.RLStageConfig(), weight_reward_by_one_minus_beta=True)
    fn = rewards.policy_reward("rlaif", RunFolder(tmp_path), config, "labeler", labeling.LabelConfig())
    rl.train_rl(tmp_path / "sft", fn, [], tmp_path / "out", config, gold_fn=lambda prompts, completions, **kw: [1.0],
                progress=False)
    assert FakeRLOOTrainer.seen["weights"] == [pytest.approx(0.95), 0.0]
