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

import warnings
from dataclasses import dataclass
from pathlib import Path

from ..run_folder import write_json

# TRL reads `model.is_gradient_checkpointing` (renamed in transformers 5) whenever it unwraps the policy to
# generate rollouts; the old name still works, so the deprecation notice is nothing a reader of the kit can act on.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)


@dataclass
class RLStageConfig:
    """Algorithm 3's knobs; defaults are the paper's where the paper has one (beta, temperature)."""

    beta: float = 0.05  # KL coefficient to the SFT policy (paper: 0.05)
    temperature: float = 0.9  # rollout temperature (paper: 0.9)
    weight_reward_by_one_minus_beta: bool = False  # the paper's (1 - beta) * r (applied once: reward_weight); TRL's RLOO uses r
    max_steps: int = 30  # 8 prompts x 4 samples a step: about one pass over tiny's 256 RL prompts
    num_generations: int = 4  # samples per prompt for the leave-one-out baseline
    batch_size: int = 32  # completions per step (= batch_size / num_generations prompts)
    learning_rate: float = 5e-5  # small enough that the tiny policy does not over-optimise within the 30 steps
    max_completion_length: int = 48
    micro_batch_size: int | None = None  # completions per forward/backward pass (None = batch_size); the rest
    # of the step is gradient accumulation: same update, less GPU memory
    seed: int = 0
    device: str | None = None  # None: the run's device policy (rlaif_lib.device); or "cpu", "cuda", ...
    activation_checkpointing: bool | None = None  # None: on for CUDA (memory), off on CPU (speed)
    # Rollouts with vLLM (TRL's `use_vllm`), used only when the `vllm` package is importable and a GPU is
    # there; otherwise transformers' generate, with one printed line saying so.
    use_vllm: bool = False
    vllm_mode: str = "colocate"  # "colocate" (same GPU as training) or "server" (`trl vllm-serve` on other GPUs)
    vllm_gpu_memory_utilization: float = 0.3  # colocate only: the GPU share vLLM may take


def reward_weight(config: RLStageConfig) -> float:
    """The weight of the policy's reward in the RL objective: the paper's (1 - beta) when
    `weight_reward_by_one_minus_beta` is set, else 1 (TRL's RLOO). The one place it is applied:
    reward callables (rewards.policy_reward) return the unweighted reward."""
    return 1.0 - config.beta if config.weight_reward_by_one_minus_beta else 1.0


def rl_trainer(policy, reward_fn, prompts, out_dir, config: RLStageConfig = RLStageConfig(), gold_fn=None,
               progress: bool = True, reference=None):
    """The `trl.RLOOTrainer` that `train_rl` runs, built but not trained: the policy at `policy` (a folder;
    the SFT policy when training starts) maximises `reward_fn` minus beta * KL to a frozen reference, on
    `prompts` (a `datasets.Dataset` with `prompt` and `id`). TRL builds that reference from the policy's
    own name, i.e. a copy of the starting policy; `reference` (a folder, e.g. the SFT policy) names another
    one, to look at a trained policy as it stood at the end of training. `gold_fn` is logged with weight 0."""
    from trl import RLOOConfig, RLOOTrainer

    from ..device import get_policy

    device_policy = get_policy(config.device)
    funcs, weights = [reward_fn], [reward_weight(config)]
    if gold_fn is not None:
        funcs.append(gold_fn)
        weights.append(0.0)
    micro, accumulation = micro_batches(config)
    args = RLOOConfig(
        output_dir=str(Path(out_dir) / "checkpoints"), max_steps=config.max_steps, learning_rate=config.learning_rate,
        per_device_train_batch_size=micro, gradient_accumulation_steps=accumulation,
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length, temperature=config.temperature, top_k=0, top_p=1.0,
        beta=config.beta, reward_weights=weights, logging_steps=1, save_strategy="no", report_to=[],
        seed=config.seed, model_init_kwargs=device_policy.model_init_kwargs(),
        disable_tqdm=not progress, lr_scheduler_type="constant", warmup_steps=0,
        **device_policy.trainer_flags(config.activation_checkpointing), **vllm_kwargs(config, device_policy),
    )
    model = str(policy)
    if reference is not None:
        import torch

        from ..models import load_causal_lm

        model, tokenizer = load_causal_lm(str(policy), dtype=torch.float32, device=config.device, quantize=None)
        model.config._name_or_path = str(reference)  # TRL creates the reference model from this name
        args.model_init_kwargs = None  # the policy comes loaded; TRL builds the reference in its dtype (fp32)
        return RLOOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=prompts,
                           processing_class=tokenizer)
    return RLOOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=prompts)


def train_rl(sft_path, reward_fn, prompts, out_dir, config: RLStageConfig = RLStageConfig(),
             gold_fn=None, progress: bool = True) -> Path:
    """RL-fine-tune the policy at `sft_path` on `prompts` (a `datasets.Dataset` with `prompt` and
    `id`) to maximise `reward_fn` (a TRL reward callable) minus beta * KL to the SFT policy.
    `gold_fn`, if given, is logged with weight 0. Saves the policy, `curves.json` and `run_info.json` to
    `out_dir` (process 0 only)."""
    from ..device import get_policy
    from .training import finish_training, write_run_info

    out_dir = Path(out_dir)
    trainer = rl_trainer(sft_path, reward_fn, prompts, out_dir, config, gold_fn, progress)
    trainer.train()
    trainer.save_model(str(out_dir))
    if trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(str(out_dir))
        write_run_info(out_dir, trainer, get_policy(config.device))
        write_json(out_dir / "curves.json", training_curves(trainer.state.log_history), indent=None)
    del trainer
    finish_training()
    return out_dir


def micro_batches(config: RLStageConfig) -> tuple[int, int]:
    """(completions per forward/backward pass, gradient-accumulation steps) for `config.batch_size`
    completions per optimizer step (per process)."""
    micro = config.micro_batch_size or config.batch_size
    if config.batch_size % micro:
        raise ValueError(f"RLStageConfig: micro_batch_size={micro} must divide batch_size={config.batch_size}")
    return micro, config.batch_size // micro


def vllm_available() -> bool:
    """True when the optional `vllm` package is importable."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def vllm_kwargs(config: RLStageConfig, policy) -> dict:
    """TRL's vLLM options for RLOO rollouts when `config.use_vllm` asks for them and vLLM can run
    (package installed, CUDA device); otherwise {} and one printed line saying why."""
    if not config.use_vllm:
        return {}
    if not vllm_available() or not policy.is_cuda:
        why = "the vllm package is not installed" if not vllm_available() else f"the device is {policy.device}"
        print(f"RL: use_vllm was asked for but {why}; rollouts use transformers' generate instead", flush=True)
        return {}
    if config.vllm_mode not in ("colocate", "server"):
        raise ValueError(f"RLStageConfig.vllm_mode must be 'colocate' or 'server', got {config.vllm_mode!r}")
    kw = {"use_vllm": True, "vllm_mode": config.vllm_mode}
    if config.vllm_mode == "colocate":
        kw["vllm_gpu_memory_utilization"] = config.vllm_gpu_memory_utilization
    return kw


def rollouts_of_one_prompt(trainer, row: dict) -> dict:
    """What TRL's RLOO computes for one prompt (`row`: {prompt, id, ...}) before a gradient step: it samples
    `num_generations` completions from the trainer's policy, scores them, subtracts beta * KL and takes the
    leave-one-out advantages. Returns tensors {prompt_ids, prompt_mask, completion_ids, completion_mask,
    advantages} and the completions' text. Calls TRL's private `_generate_and_score_completions` (checked
    by tests/test_building_blocks.py)."""
    k = trainer.args.num_generations
    out = trainer._generate_and_score_completions([row] * k)
    keep = ("prompt_ids", "prompt_mask", "completion_ids", "completion_mask", "advantages")
    result = {key: out[key] for key in keep}
    result["completions"] = trainer.processing_class.batch_decode(out["completion_ids"], skip_special_tokens=True)
    return result


def one_trl_step(trainer) -> dict:
    """Run TRL's own training loop for one step (`trainer.args.max_steps == 1`) and record what it did:
    {batch: what `_generate_and_score_completions` returned (prompt and completion ids and masks, advantages),
    rewards: r(x, y_i) per rollout (TRL's reward functions, weighted and summed as it sums them), grads: each
    parameter's gradient as the optimizer saw it (after clipping), optimizer, grad_norm: the logged norm before
    clipping}. Listens in on TRL's private `_generate_and_score_completions` and `_calculate_rewards` (named in
    tests/test_private_apis.py); changes nothing TRL computes."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    seen = {}
    generate, score = trainer._generate_and_score_completions, trainer._calculate_rewards
    trainer._generate_and_score_completions = lambda inputs: seen.setdefault("batch", generate(inputs))
    trainer._calculate_rewards = lambda *a: seen.setdefault("rewards", score(*a))

    def before_step(optimizer, args, kwargs):
        seen["optimizer"] = optimizer
        seen["grads"] = {name: p.grad.clone() for name, p in trainer.model.named_parameters()}

    hook = register_optimizer_step_pre_hook(before_step)
    try:
        trainer.train()
    finally:
        hook.remove()
        trainer._generate_and_score_completions, trainer._calculate_rewards = generate, score
    rewards = (seen.pop("rewards") * trainer.reward_weights).nansum(dim=1)
    grad_norm = next(h["grad_norm"] for h in trainer.state.log_history if "grad_norm" in h)
    return dict(seen, rewards=rewards, grad_norm=grad_norm)


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
