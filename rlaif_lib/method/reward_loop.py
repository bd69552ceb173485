"""The reward model trained by hand: the loop `trl.RewardTrainer` runs for `reward.reward_trainer`, written out.

Bradley-Terry: the reward model scores ONE (post, summary) at a time, r = r(x, y), and a pair's preference is

    P(A preferred to B) = sigmoid(r_A - r_B),        sigmoid(z) = 1 / (1 + exp(-z))

so only the margin r_A - r_B matters. The labeler gives a soft label p = P(A better). The loss is the
cross-entropy between p and sigmoid(r_A - r_B), i.e. the negative log-likelihood of the soft label:

    L = -[ p * log sigmoid(r_A - r_B) + (1 - p) * log sigmoid(r_B - r_A) ]

It is lowest where sigmoid(r_A - r_B) = p; with p in {0, 1} it is the standard pairwise loss of RLHF.

Everything the trainer does for the kit's RewardStageConfig is below, in the order it happens, so that the
two take the same steps (tests/test_reward_loop.py checks it):

* the backbone with a fresh one-output score head, seeded as `reward_trainer` seeds it; dropout off;
* the text prompt + summary + EOS (`reward_text`); pairs longer than max_length tokens are left out;
* AdamW (betas 0.9 / 0.999, eps 1e-8, no weight decay, the fused kernel: the Trainer's `adamw_torch_fused`);
* a cosine learning rate after 5 warm-up steps, over ceil(epochs * batches per epoch) steps. The warm-up
  starts at 0: the FIRST step has learning rate 0 and moves no weight (it only fills Adam's moments);
* each epoch a new order, torch.randperm with a generator seeded seed + epoch (accelerate's seedable sampler);
* the gradient norm clipped to 1;
* A and B scored in one forward pass, as the trainer's collator stacks them: two passes give the same rewards up
  to float rounding (1e-7), which Adam's first steps (about lr * sign(gradient) each) can magnify on gradients
  near zero; one pass makes the loop and the trainer agree bit for bit on a CPU. (On a GPU the trainer runs
  under bf16/fp16 autocast and this loop in fp32: there the two agree only approximately.)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from transformers import get_cosine_schedule_with_warmup
from trl.trainer.utils import disable_dropout_in_model

from .reward import RewardStageConfig, reward_rows, reward_text

WARMUP_STEPS = 5  # reward_trainer's RewardConfig(warmup_steps=5)
MAX_GRAD_NORM = 1.0  # TrainingArguments.max_grad_norm
LOGGING_STEPS = 5  # reward_trainer's RewardConfig(logging_steps=5): loss_curve.json has one point per 5 steps


def train_reward_model_by_hand(init_model: str, pairs: list[dict], p_a: list[float],
                               config: RewardStageConfig | None = None):
    """Train a reward model from `init_model` (or `config.backbone`) on `pairs` labelled `p_a` = P(A better),
    in a plain PyTorch loop that takes the same steps as `reward.reward_trainer(...).train()`.
    Returns ((model, tokenizer), losses): the reward model, in eval mode, and the loss of every step.
    config None: RewardStageConfig()'s defaults."""
    from ..device import get_policy
    from ..models import load_sequence_classifier

    config = config or RewardStageConfig()
    if config.loss not in ("soft", "hard"):
        raise ValueError(f"the plain loop knows the losses 'soft' and 'hard', got {config.loss!r}")
    device = get_policy(config.device).device

    # 1. The model: the backbone plus a randomly initialised scalar head (the seed makes it reward_trainer's head).
    torch.manual_seed(config.seed)
    model, tokenizer = load_sequence_classifier(config.backbone or str(init_model), num_labels=1, train=True,
                                                device=config.device)
    model.to(device).train()
    disable_dropout_in_model(model)  # RewardConfig(disable_dropout=True): what RewardTrainer calls

    # 2. The data: (text A, text B, p). "hard": A is the preferred summary and p = 1 (ties are left out).
    data = [(reward_text(row["prompt"], row["chosen"], tokenizer), reward_text(row["prompt"], row["rejected"], tokenizer),
             row.get("p", 1.0)) for row in reward_rows(pairs, p_a, config.loss)]
    data = [d for d in data if max(len(tokenizer(text)["input_ids"]) for text in d[:2]) <= config.max_length]
    if not data:
        raise ValueError(f"no pair is at most RewardStageConfig.max_length={config.max_length} tokens long")

    # 3. Optimizer and learning-rate schedule.
    steps_per_epoch = math.ceil(len(data) / config.batch_size)
    total_steps = math.ceil(config.epochs * steps_per_epoch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=0.0, fused=True)
    schedule = get_cosine_schedule_with_warmup(optimizer, WARMUP_STEPS, total_steps)

    def rewards(texts: list[str]) -> torch.Tensor:  # one scalar per text, read at its last (EOS) token
        batch = tokenizer(texts, return_tensors="pt", padding=True, padding_side="right").to(device)
        return model(**batch).logits[:, 0]

    # 4. The loop.
    losses = []
    for epoch in range(math.ceil(config.epochs)):
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        for start in range(0, len(data), config.batch_size):
            if len(losses) == total_steps:  # a fractional last epoch stops part-way
                break
            batch = [data[i] for i in order[start:start + config.batch_size]]
            # r_A, r_B = model(A), model(B): each text is scored on its own, in ONE forward pass over all A then all B
            r_a, r_b = rewards([text_a for text_a, _, _ in batch] + [text_b for _, text_b, _ in batch]).chunk(2)
            p = torch.tensor([label for _, _, label in batch], device=device)
            loss = -(p * F.logsigmoid(r_a - r_b) + (1 - p) * F.logsigmoid(r_b - r_a)).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    return (model.eval(), tokenizer), losses


def logged_losses(losses: list[float], every: int = LOGGING_STEPS) -> list[dict]:
    """Per-step losses as the trainer logs them (its `loss_curve.json`): at every `every`-th step, the mean
    loss of the steps since the last point. Plot both against "step"."""
    return [{"step": step, "loss": sum(losses[step - every:step]) / every}
            for step in range(every, len(losses) + 1, every)]
