"""The reward model (Algorithm 2, second loop), trained on soft AI preference labels.

The paper distils the labeler's preference distribution into a reward model with a cross-entropy
between the soft label p = P(summary A is better) and softmax(r_A, r_B):

    loss = -[ p * log sigmoid(r_A - r_B) + (1 - p) * log sigmoid(r_B - r_A) ]

With p in {0, 1} this is exactly the standard pairwise (Bradley-Terry) loss of `trl.RewardTrainer`.
TRL has no soft labels, so `SoftLabelRewardTrainer` below overrides `compute_loss` and its
collator carries p. In TRL's columns, "chosen" is summary A and "rejected" is summary B whatever
the label says; p says how much A is preferred.

What the reward model reads is defined once, in `reward_text`: prompt + summary + EOS, the same
string in training (RewardTrainer appends EOS) and in RL scoring (TRL's RLOO decodes completions
without special tokens, so `make_reward_fn` appends it back).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from trl import RewardConfig, RewardTrainer
from trl.trainer.reward_trainer import DataCollatorForPreference

from ..stats import bootstrap_mean


@dataclass
class RewardStageConfig:
    """Algorithm 2's reward-model knobs. loss: "soft" (the paper's distillation), "hard" (argmax of
    the label, standard pairwise loss) or "margin" (hard label with TRL's margin = |2p - 1|)."""

    loss: str = "soft"
    backbone: str | None = None  # None: start from the SFT policy (the paper); or a folder/hub id, e.g. models.MINILM
    epochs: float = 3.0
    learning_rate: float = 5e-4
    batch_size: int = 16
    max_length: int = 320
    seed: int = 0
    device: str | None = None  # None: the run's device policy (rlaif_lib.device); or "cpu", "cuda", ...
    activation_checkpointing: bool | None = None  # None: on for CUDA (memory), off on CPU (speed)


def soft_preference_loss(r_a: torch.Tensor, r_b: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """The paper's reward-distillation loss, averaged over the batch (p = P(A preferred))."""
    return -(p * F.logsigmoid(r_a - r_b) + (1 - p) * F.logsigmoid(r_b - r_a)).mean()


@dataclass
class SoftPreferenceCollator(DataCollatorForPreference):
    """TRL's preference collator, plus the soft label `p` of each pair."""

    def torch_call(self, examples):
        batch = super().torch_call(examples)
        batch["p"] = torch.tensor([e["p"] for e in examples], dtype=torch.float)
        return batch


class SoftLabelRewardTrainer(RewardTrainer):
    """`trl.RewardTrainer` whose loss is `soft_preference_loss` on the column `p`."""

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        self._signature_columns = list(self._signature_columns) + ["p"]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        p = inputs.pop("p")
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], use_cache=False)
        r_a, r_b = torch.chunk(outputs.logits.squeeze(-1), chunks=2)
        loss = soft_preference_loss(r_a, r_b, p)
        mode = "train" if self.model.training else "eval"
        with torch.no_grad():
            self._metrics[mode]["accuracy"].append(((r_a > r_b).float() == (p > 0.5).float()).float().mean().item())
            self._metrics[mode]["margin"].append((r_a - r_b).mean().item())
        return (loss, outputs) if return_outputs else loss


def reward_rows(pairs: list[dict], p_a: list[float], loss: str = "soft") -> list[dict]:
    """TRL rows {prompt, chosen, rejected, p | margin} from pairs and P(A preferred) per pair.
    "hard"/"margin" put the preferred summary in "chosen" (pairs with p = 0.5 exactly are dropped)."""
    if len(pairs) != len(p_a):
        raise ValueError(f"{len(p_a)} labels for {len(pairs)} pairs: labels must be joined to pairs by id first")
    rows = []
    for pair, p in zip(pairs, p_a):
        if loss == "soft":
            rows.append({"prompt": pair["prompt"], "chosen": pair["summary_a"], "rejected": pair["summary_b"], "p": float(p)})
            continue
        if p == 0.5:
            continue
        a_wins = p > 0.5
        row = {"prompt": pair["prompt"], "chosen": pair["summary_a"] if a_wins else pair["summary_b"],
               "rejected": pair["summary_b"] if a_wins else pair["summary_a"]}
        if loss == "margin":
            row["margin"] = abs(2 * float(p) - 1)
        rows.append(row)
    return rows


def reward_trainer(init_model: str, pairs: list[dict], p_a: list[float], out_dir,
                   config: RewardStageConfig = RewardStageConfig(), progress: bool = True):
    """The trainer `train_reward_model` runs, built but not trained: `trl.RewardTrainer` (hard/margin labels)
    or `SoftLabelRewardTrainer` (the paper's soft labels), with a reward model initialised from `init_model`
    (or `config.backbone`) on `pairs` labelled `p_a`. Notebook 03 uses it to compute one batch's loss."""
    from datasets import Dataset

    from ..device import get_policy
    from ..models import load_sequence_classifier

    if config.loss not in ("soft", "hard", "margin"):
        raise ValueError(f"RewardStageConfig.loss must be 'soft', 'hard' or 'margin', got {config.loss!r}")
    policy = get_policy(config.device)
    args = RewardConfig(  # before the model loads, so that DeepSpeed ZeRO-3 can partition it as it loads
        output_dir=str(Path(out_dir) / "checkpoints"), num_train_epochs=config.epochs, learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size, max_length=config.max_length, logging_steps=5,
        save_strategy="no", report_to=[], seed=config.seed, disable_tqdm=not progress, lr_scheduler_type="cosine",
        warmup_steps=5, **policy.trainer_flags(config.activation_checkpointing),
    )
    torch.manual_seed(config.seed)  # before the model: the reward head is initialised at random here
    model, tokenizer = load_sequence_classifier(config.backbone or str(init_model), num_labels=1, train=True,
                                                device=config.device)
    data = Dataset.from_list(reward_rows(pairs, p_a, config.loss))
    trainer_cls, collator = RewardTrainer, None
    if config.loss == "soft":
        trainer_cls, collator = SoftLabelRewardTrainer, SoftPreferenceCollator(pad_token_id=tokenizer.pad_token_id)
    trainer = trainer_cls(model=model, args=args, train_dataset=data, processing_class=tokenizer, data_collator=collator)
    kept = len(trainer.train_dataset)  # RewardTrainer drops pairs longer than max_length tokens
    if kept == 0:
        raise ValueError(f"every one of the {len(data)} pairs is longer than RewardStageConfig.max_length="
                         f"{config.max_length} tokens; raise max_length or shorten the posts")
    if kept < len(data):
        print(f"reward model: {len(data) - kept} of {len(data)} pairs are longer than max_length={config.max_length} "
              "tokens and were left out")
    return trainer


def train_reward_model(init_model: str, pairs: list[dict], p_a: list[float], out_dir,
                       config: RewardStageConfig = RewardStageConfig(), progress: bool = True) -> Path:
    """Train a reward model initialised from `init_model` (the SFT policy, as in the paper; or
    `config.backbone` when set, e.g. the offline MiniLM encoder) on `pairs` with labels `p_a`
    (P(summary A preferred) per pair). Device and precision flags come from the device policy.
    Saves model, tokenizer, loss curve and `run_info.json` to `out_dir` (process 0 only)."""
    from .training import finish_training, save_trained

    out_dir = Path(out_dir)
    trainer = reward_trainer(init_model, pairs, p_a, out_dir, config, progress)
    trainer.train()
    save_trained(trainer, out_dir, config.device)
    del trainer
    finish_training()
    return out_dir


def reward_text(prompt: str, summary: str, tokenizer) -> str:
    """The exact string a reward model reads: prompt + summary + EOS (as RewardTrainer trains it)."""
    return prompt + summary + tokenizer.eos_token


def load_reward_model(path, device: str | None = None):
    """(model, tokenizer) of a saved reward model, in eval mode, on the device policy's device and dtype."""
    from ..models import load_sequence_classifier

    return load_sequence_classifier(str(path), num_labels=1, device=device)


@torch.no_grad()
def score(reward_model, prompts: list[str], summaries: list[str], batch_size: int | None = None) -> np.ndarray:
    """Scalar rewards r(prompt, summary) from `reward_model` = (model, tokenizer), computed on the
    model's device; batch_size None = the device policy's suggestion for scoring."""
    from ..device import get_policy

    model, tokenizer = reward_model
    batch_size = batch_size or get_policy().batch_size("score", model.num_parameters())
    texts = [reward_text(p, s, tokenizer) for p, s in zip(prompts, summaries)]
    out = []
    for i in range(0, len(texts), batch_size):
        # tokenized exactly as RewardTrainer tokenizes its training text (special tokens included)
        enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True, padding_side="right")
        out.append(model(**enc.to(model.device)).logits[:, 0].float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


def make_reward_fn(reward_model_path):
    """A TRL `reward_funcs` callable f(prompts, completions, **kw) -> list[float] scoring with the
    reward model at `reward_model_path`, unweighted (rl.train_rl applies the paper's (1 - beta) once)."""
    reward_model = load_reward_model(reward_model_path)

    def reward_fn(prompts, completions, **kwargs):
        return [float(r) for r in score(reward_model, list(prompts), list(completions))]

    reward_fn.__name__ = "reward_model"
    return reward_fn


def preference_accuracy(reward_model, pairs: list[dict], n_boot: int = 2000, seed: int = 0) -> dict:
    """Share of `pairs` (with a human `choice`, 0 = summary A) where the reward model prefers the
    human's pick, with a bootstrap 95% interval: Table 5's measurement. Also returns P(A) per pair."""
    r_a = score(reward_model, [p["prompt"] for p in pairs], [p["summary_a"] for p in pairs])
    r_b = score(reward_model, [p["prompt"] for p in pairs], [p["summary_b"] for p in pairs])
    human_a = np.array([p["choice"] == 0 for p in pairs])
    correct = np.where(r_a == r_b, 0.5, ((r_a > r_b) == human_a).astype(float))
    result = bootstrap_mean(correct, n_boot=n_boot, seed=seed)
    result["p_a"] = (1 / (1 + np.exp(-(r_a - r_b)))).tolist()
    return result


def calibration_curve(p_a, pairs: list[dict], n_bins: int = 5) -> dict:
    """Predicted P(A preferred) against how often humans preferred A, in equal-count bins."""
    p_a = np.asarray(p_a, dtype=float)
    human_a = np.array([p["choice"] == 0 for p in pairs], dtype=float)
    order = np.argsort(p_a)
    bins = [b for b in np.array_split(order, n_bins) if len(b)]
    return {"predicted": [float(p_a[b].mean()) for b in bins], "observed": [float(human_a[b].mean()) for b in bins],
            "n": [int(len(b)) for b in bins]}
