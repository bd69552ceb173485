"""RL fine-tuning against a reward with a KL penalty to the SFT policy (Algorithm 3).

The paper optimises E[(1 - beta) * r(x, y) - beta * KL(pi || pi_SFT)] with REINFORCE and a
baseline, reward at the final token only, beta = 0.05, rollouts at temperature 0.9. TRL's
`RLOOTrainer` is the closest match: REINFORCE with a leave-one-out baseline over
`num_generations` samples per prompt, with the sequence-level KL to the frozen reference
(here the SFT policy) subtracted from the reward as beta * KL.

The same function trains every policy of Table 1; only the reward differs:
RLAIF (reward model on AI labels), RLHF (reward model on human labels), d-RLAIF (the labeler's
1-10 score, no reward model). In the toy world the gold rater's score of the same rollouts rides
along as a second reward function with weight 0: it does not train anything, but TRL logs it, so
reward over-optimisation shows in the curves when it happens.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .run_folder import write_json


@dataclass
class RLStageConfig:
    """Algorithm 3's knobs; defaults are the paper's where the paper has one (beta, temperature)."""

    beta: float = 0.05  # KL coefficient to the SFT policy (paper: 0.05)
    temperature: float = 0.9  # rollout temperature (paper: 0.9)
    weight_reward_by_one_minus_beta: bool = False  # the paper's (1 - beta) * r; TRL's RLOO uses r
    max_steps: int = 60
    num_generations: int = 4  # samples per prompt for the leave-one-out baseline
    batch_size: int = 32  # completions per step (= batch_size / num_generations prompts)
    learning_rate: float = 5e-5  # tiny policy: 3e-4 over-optimised within 10 steps; 5e-5 and 1e-4 both improved
    max_completion_length: int = 40
    seed: int = 0
    use_cpu: bool = True


def train_rl(sft_path, reward_fn, prompts, out_dir, config: RLStageConfig = RLStageConfig(),
             gold_fn=None, progress: bool = True) -> Path:
    """RL-fine-tune the policy at `sft_path` on `prompts` (a `datasets.Dataset` with `prompt` and
    `id`) to maximise `reward_fn` (a TRL reward callable) minus beta * KL to the SFT policy.
    `gold_fn`, if given, is logged with weight 0. Saves the policy and `curves.json` to `out_dir`."""
    from trl import RLOOConfig, RLOOTrainer

    out_dir = Path(out_dir)
    funcs, weights = [reward_fn], [1.0 - config.beta if config.weight_reward_by_one_minus_beta else 1.0]
    if gold_fn is not None:
        funcs.append(gold_fn)
        weights.append(0.0)
    args = RLOOConfig(
        output_dir=str(out_dir / "checkpoints"), max_steps=config.max_steps, learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size, num_generations=config.num_generations,
        max_completion_length=config.max_completion_length, temperature=config.temperature, top_k=0, top_p=1.0,
        beta=config.beta, reward_weights=weights, logging_steps=1, save_strategy="no", report_to=[],
        seed=config.seed, use_cpu=config.use_cpu, bf16=False, activation_checkpointing=False,
        disable_tqdm=not progress, lr_scheduler_type="constant", warmup_steps=0,
    )
    trainer = RLOOTrainer(model=str(sft_path), reward_funcs=funcs, args=args, train_dataset=prompts)
    trainer.train()
    trainer.save_model(str(out_dir))
    trainer.processing_class.save_pretrained(str(out_dir))
    write_json(out_dir / "curves.json", training_curves(trainer.state.log_history), indent=None)
    return out_dir


def training_curves(log_history: list[dict]) -> dict:
    """Per-step curves from TRL's log: reward, KL to SFT, completion length, and every reward function."""
    keep = {"reward": "reward", "kl": "kl", "completions/mean_length": "length"}
    curves: dict[str, list] = {"step": []}
    for h in log_history:
        if "reward" not in h:
            continue
        curves["step"].append(h["step"])
        for key, value in h.items():
            name = keep.get(key) or (key.split("/")[1] if key.startswith("rewards/") and key.endswith("/mean") else None)
            if name:
                curves.setdefault(name, []).append(value)
    return curves
