"""The tiny policy of the `tiny` preset: a 1M-parameter causal LM that the kit pretrains itself on ToyTLDR posts.

The paper starts from PaLM 2 XS, a model that already knows language. Our stand-in must know the
toy world's language before SFT can teach it to summarise, so the kit builds one:

1. a byte-level BPE tokenizer trained on toy-world text (posts *and* reference-style sentences,
   so that every word a summary needs has tokens), and
2. a 4-layer, 128-wide Llama-style decoder (rotary positions) trained as a plain language model
   on posts. Half of them end in an "EDIT:" line restating their facts, as real Reddit posts often
   do; that is where it learns to carry facts forward. No text has "TL;DR:" and a summary after it.

Measured while choosing it (1000 SFT rows, 3 epochs, 100 held-out posts, gold rater): a GPT-2 of
the same size with learned positions and the same budget never learned to copy facts from the post
(greedy SFT gold score 0.00, every summary with wrong facts); the Llama-style model reached 0.81.

The kit ships the result (4 MB) in `rlaif_lib/assets/tiny-policy/`, so a fresh machine starts
at SFT. `python -m rlaif_lib.policy` rebuilds it from scratch (about 8 minutes on 2 cores);
with a non-default config the build goes to `cache_dir()/tiny-policy-<hash>` instead.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from .models import cache_dir

EOS, PAD = "<|endoftext|>", "<|pad|>"


@dataclass
class TinyPolicyConfig:
    """Size and pretraining budget of the kit's own base policy."""

    arch: str = "llama"  # "llama" (rotary positions) or "gpt2" (learned positions, as nanoGPT)
    vocab_size: int = 2048
    n_layer: int = 4
    n_embd: int = 128
    n_head: int = 4
    n_positions: int = 320
    n_posts: int = 12000  # pretraining posts (toy-world "sft" split, a different seed than SFT uses)
    edit_share: float = 0.5  # share of posts followed by an "EDIT:"/"UPDATE:" line restating their facts
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 1234


def train_tokenizer(texts, vocab_size: int):
    """Train a byte-level BPE tokenizer on `texts` and wrap it for transformers (EOS and PAD added)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, bos_token=EOS)


def pretraining_texts(n_posts: int, seed: int, edit_share: float = 0.5) -> tuple[list[str], list[str]]:
    """(language-model texts, tokenizer texts): posts, a share `edit_share` of them followed by an "EDIT:"
    or "UPDATE:" line restating their facts (see the module docstring). No text has "TL;DR:" and a summary."""
    import random

    from .tldr import tldr_prompt
    from .toy_world import generate_posts, render_reference

    rng = random.Random(seed)
    posts = generate_posts(n_posts, split="sft", seed=seed)
    lm_texts = []
    for p in posts:
        text = tldr_prompt(p.subreddit, p.title, p.body).rsplit("TL;DR:", 1)[0].rstrip()
        if rng.random() < edit_share:
            text += f"\n\n{rng.choice(['EDIT:', 'UPDATE:', 'Edit for clarity:'])} {render_reference(p.facts, rng)}"
        lm_texts.append(text)
    return lm_texts, lm_texts + [p.reference for p in posts]


SHIPPED = Path(__file__).parent / "assets" / "tiny-policy"


def tiny_policy_path(config: TinyPolicyConfig = TinyPolicyConfig(), progress: bool = True) -> Path:
    """Folder of the pretrained tiny policy: the shipped one for the default config, otherwise one
    built on first use and cached."""
    if config == TinyPolicyConfig() and (SHIPPED / "model.safetensors").exists():
        return SHIPPED
    key = hashlib.sha1(json.dumps(asdict(config), sort_keys=True).encode()).hexdigest()[:10]
    out = cache_dir() / f"tiny-policy-{key}"
    if not (out / "model.safetensors").exists():
        pretrain_tiny_policy(config, out, progress=progress)
    return out


def build_model(config: TinyPolicyConfig, tokenizer):
    """A randomly initialised causal LM of the configured size and architecture."""
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    ids = dict(bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id)
    if config.arch == "gpt2":
        return GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=config.n_positions,
                                          n_embd=config.n_embd, n_layer=config.n_layer, n_head=config.n_head, **ids))
    if config.arch == "llama":
        return LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=config.n_embd,
                                            intermediate_size=3 * config.n_embd, num_hidden_layers=config.n_layer,
                                            num_attention_heads=config.n_head, num_key_value_heads=config.n_head,
                                            max_position_embeddings=config.n_positions, tie_word_embeddings=True, **ids))
    raise ValueError(f"TinyPolicyConfig.arch must be 'gpt2' or 'llama', got {config.arch!r}")


def pretrain_tiny_policy(config: TinyPolicyConfig, out: Path, progress: bool = True) -> Path:
    """Build the tokenizer and pretrain the tiny policy (`config.arch`) as a causal LM on toy posts; save both to `out`."""
    import torch
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    torch.manual_seed(config.seed)
    lm_texts, tok_texts = pretraining_texts(config.n_posts, config.seed, config.edit_share)
    tokenizer = train_tokenizer(tok_texts, config.vocab_size)
    model = build_model(config, tokenizer)
    data = Dataset.from_dict({"text": lm_texts}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=config.n_positions), batched=True,
        remove_columns=["text"])
    args = TrainingArguments(
        output_dir=str(out) + ".work", num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, lr_scheduler_type="cosine", warmup_steps=20, weight_decay=0.01,
        logging_steps=25, save_strategy="no", report_to=[], seed=config.seed, disable_tqdm=not progress,
        use_cpu=True)  # on CPU by design: the shipped checkpoint rebuilds bit for bit
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collator)
    trainer.train()
    model.config.use_cache = True  # the Trainer turns the KV cache off; generation needs it
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "pretrain_log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    shutil.rmtree(str(out) + ".work", ignore_errors=True)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out


if __name__ == "__main__":  # python -m rlaif_lib.policy [--out FOLDER]: rebuild the shipped checkpoint
    import argparse

    parser = argparse.ArgumentParser(description="Pretrain the tiny policy from scratch.")
    parser.add_argument("--out", default=str(SHIPPED))
    pretrain_tiny_policy(TinyPolicyConfig(), Path(parser.parse_args().out))
