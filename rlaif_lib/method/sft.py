"""Supervised fine-tuning (Algorithm 1) and sampling from a policy (the first loop of Algorithm 2).

SFT is `trl.SFTTrainer` on prompt/completion rows: the loss counts the completion (the TL;DR) only.
Sampling draws several summaries per post at a set temperature, drops exact duplicates, and
records which policy and temperature made each one (the `summaries[].policy` field of OpenAI's
comparisons).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .training import finish_training, save_trained


@dataclass
class SFTStageConfig:
    """Algorithm 1's knobs. Defaults fit the `tiny` preset on a CPU; GPU presets override them."""

    epochs: float = 3.0
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_length: int = 320
    warmup_steps: int = 20
    seed: int = 0
    device: str | None = None  # None: the run's device policy (rlaif_lib.device); or "cpu", "cuda", ...
    activation_checkpointing: bool | None = None  # None: on for CUDA (memory), off on CPU (speed)


def sft_trainer(base_model: str, rows, out_dir, config: SFTStageConfig = SFTStageConfig(), progress: bool = True):
    """The `trl.SFTTrainer` that `train_sft` runs, built but not trained: `base_model` (folder or hub id)
    on `rows` (a `datasets.Dataset` with `prompt` and `completion`), loss on the completion only; device,
    dtype and precision flags from the device policy. Notebook 01 uses it to compute one batch's loss
    by hand and by TRL."""
    from trl import SFTConfig, SFTTrainer

    from ..device import get_policy

    policy = get_policy(config.device)
    args = SFTConfig(
        output_dir=str(Path(out_dir) / "checkpoints"),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        max_length=config.max_length,
        completion_only_loss=True,
        lr_scheduler_type="cosine",
        warmup_steps=config.warmup_steps,
        logging_steps=10,
        save_strategy="no",
        report_to=[],
        seed=config.seed,
        model_init_kwargs=policy.model_init_kwargs(),
        disable_tqdm=not progress,
        **policy.trainer_flags(config.activation_checkpointing),
    )
    return SFTTrainer(model=base_model, args=args, train_dataset=rows)


def train_sft(base_model: str, rows, out_dir, config: SFTStageConfig = SFTStageConfig(), progress: bool = True) -> Path:
    """Fine-tune `base_model` (folder or hub id) on `rows` (a `datasets.Dataset` with `prompt` and
    `completion`), loss on the completion only. Saves the policy, the loss curve and `run_info.json`
    (device, world size) to `out_dir`; under torchrun/accelerate only process 0 writes."""
    out_dir = Path(out_dir)
    trainer = sft_trainer(base_model, rows, out_dir, config, progress)
    trainer.train()
    trainer.model.config.use_cache = True  # keep generation fast for sampling and RL
    save_trained(trainer, out_dir, config.device)
    del trainer
    finish_training()
    return out_dir


def generate(policy, prompts: list[str], n: int = 1, temperature: float = 0.7, max_new_tokens: int = 48,
             batch_size: int | None = None, seed: int = 0, progress: bool = False) -> list[list[str]]:
    """Sample `n` completions per prompt from `policy` (a folder, hub id, or (model, tokenizer) pair).
    temperature 0 means greedy. A folder or hub id is loaded through the device policy (and freed
    afterwards); batch_size None = the policy's suggestion for generation. Returns, per prompt, the
    list of decoded completions (no EOS)."""
    import torch

    from ..device import get_policy
    from ..models import load_causal_lm

    if isinstance(policy, (str, Path)):
        model, tokenizer = load_causal_lm(str(policy))
    else:
        model, tokenizer = policy
    batch_size = batch_size or get_policy().batch_size("generate", model.num_parameters())
    model.eval()
    tokenizer.padding_side = "left"
    torch.manual_seed(seed)
    sampling = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0) if temperature > 0 else dict(do_sample=False)
    out: list[list[str]] = []
    batches = range(0, len(prompts), batch_size)
    for start in tqdm(batches, desc="sampling", disable=not progress):
        chunk = prompts[start:start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True).to(model.device)
        with torch.no_grad():
            ids = model.generate(
                **enc, max_new_tokens=max_new_tokens, num_return_sequences=n, pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id, **sampling,
            )
        texts = tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        out.extend(texts[i * n:(i + 1) * n] for i in range(len(chunk)))
    if isinstance(policy, (str, Path)):
        from ..models import free_memory

        del model
        free_memory()
    return out


def sample_pairs(policy, prompts: list[str], ids: list[str], n_samples: int = 4, temperature: float = 1.0,
                 max_new_tokens: int = 48, policy_name: str = "sft", seed: int = 0, progress: bool = True) -> list[dict]:
    """Candidate pairs for labeling: `n_samples` summaries per prompt at `temperature`, duplicates dropped
    (compared as the pairs will hold them, `data.normalize_summary`: a pair never has two equal summaries),
    then one random pair per prompt. Posts whose samples are all equal give no pair.
    Returns rows {id, prompt, summary_a, summary_b, policy_a, policy_b} with policy like "sft@T=1.0"."""
    from ..data import normalize_summary

    samples = generate(policy, prompts, n=n_samples, temperature=temperature, max_new_tokens=max_new_tokens,
                       seed=seed, progress=progress)
    rng = random.Random(seed)
    tag = f"{policy_name}@T={temperature:g}"
    pairs = []
    for pid, prompt, texts in zip(ids, prompts, samples):
        first = {}  # normalised text -> its first sample
        for t in texts:
            first.setdefault(normalize_summary(t), t)
        unique = [t for key, t in first.items() if key]
        if len(unique) < 2:
            continue
        a, b = rng.sample(unique, 2)
        pairs.append({"id": pid, "prompt": prompt, "summary_a": a, "summary_b": b, "policy_a": tag, "policy_b": tag})
    return pairs
