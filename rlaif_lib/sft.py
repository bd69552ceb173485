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

from .run_folder import write_json


@dataclass
class SFTStageConfig:
    """Algorithm 1's knobs. Defaults fit the `tiny` preset on a CPU; GPU presets override them."""

    epochs: float = 3.0
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_length: int = 320
    warmup_steps: int = 20
    seed: int = 0
    use_cpu: bool = True


def train_sft(base_model: str, rows, out_dir, config: SFTStageConfig = SFTStageConfig(), progress: bool = True) -> Path:
    """Fine-tune `base_model` (folder or hub id) on `rows` (a `datasets.Dataset` with `prompt` and
    `completion`), loss on the completion only. Saves the policy and the loss curve to `out_dir`."""
    from trl import SFTConfig, SFTTrainer

    out_dir = Path(out_dir)
    args = SFTConfig(
        output_dir=str(out_dir / "checkpoints"),
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
        use_cpu=config.use_cpu,
        bf16=False,
        activation_checkpointing=False,
        disable_tqdm=not progress,
    )
    trainer = SFTTrainer(model=base_model, args=args, train_dataset=rows)
    trainer.train()
    trainer.model.config.use_cache = True  # keep generation fast for sampling and RL
    trainer.save_model(str(out_dir))
    trainer.processing_class.save_pretrained(str(out_dir))
    losses = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    write_json(out_dir / "loss_curve.json", losses, indent=None)
    return out_dir


def generate(policy, prompts: list[str], n: int = 1, temperature: float = 0.7, max_new_tokens: int = 48,
             batch_size: int = 32, seed: int = 0, progress: bool = False) -> list[list[str]]:
    """Sample `n` completions per prompt from `policy` (a folder, hub id, or (model, tokenizer) pair).
    temperature 0 means greedy. Returns, per prompt, the list of decoded completions (no EOS)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if isinstance(policy, (str, Path)):
        model = AutoModelForCausalLM.from_pretrained(str(policy))
        tokenizer = AutoTokenizer.from_pretrained(str(policy))
    else:
        model, tokenizer = policy
    model.eval()
    tokenizer.padding_side = "left"
    torch.manual_seed(seed)
    sampling = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0) if temperature > 0 else dict(do_sample=False)
    out: list[list[str]] = []
    batches = range(0, len(prompts), batch_size)
    for start in tqdm(batches, desc="sampling", disable=not progress):
        chunk = prompts[start:start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True)
        with torch.no_grad():
            ids = model.generate(
                **enc, max_new_tokens=max_new_tokens, num_return_sequences=n, pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id, **sampling,
            )
        texts = tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        out.extend(texts[i * n:(i + 1) * n] for i in range(len(chunk)))
    return out


def sample_pairs(policy, prompts: list[str], ids: list[str], n_samples: int = 4, temperature: float = 1.0,
                 max_new_tokens: int = 48, policy_name: str = "sft", seed: int = 0, progress: bool = True) -> list[dict]:
    """Candidate pairs for labeling: `n_samples` summaries per prompt at `temperature`, exact duplicates
    (after stripping) dropped, then one random pair per prompt. Posts whose samples are all equal give no pair.
    Returns rows {id, prompt, summary_a, summary_b, policy_a, policy_b} with policy like "sft@T=1.0"."""
    samples = generate(policy, prompts, n=n_samples, temperature=temperature, max_new_tokens=max_new_tokens,
                       seed=seed, progress=progress)
    rng = random.Random(seed)
    tag = f"{policy_name}@T={temperature:g}"
    pairs = []
    for pid, prompt, texts in zip(ids, prompts, samples):
        unique = list(dict.fromkeys(t for t in texts if t.strip()))
        if len(unique) < 2:
            continue
        a, b = rng.sample(unique, 2)
        pairs.append({"id": pid, "prompt": prompt, "summary_a": a, "summary_b": b, "policy_a": tag, "policy_b": tag})
    return pairs
