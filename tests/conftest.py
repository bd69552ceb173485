"""Shared fixtures: a tiny random GPT-2 with a toy tokenizer, built in seconds, no hub."""
import os
import random

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = ("my boyfriend girlfriend forgot birthday two years should i break up he she says work is stressful "
         "we live together and the dog ran away last week tl dr good bad").split()


def random_text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    """Folder of a randomly initialised 2-layer GPT-2 with a BPE tokenizer trained on WORDS."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from rlaif_lib.policy import train_tokenizer

    torch.manual_seed(0)
    rng = random.Random(0)
    tokenizer = train_tokenizer([random_text(rng, 30) for _ in range(200)] + ["SUBREDDIT: r/x\n\nTITLE: \n\nPOST: \n\nTL;DR:"], 400)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=64, n_layer=2, n_head=2,
                                       eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id,
                                       pad_token_id=tokenizer.pad_token_id))
    path = tmp_path_factory.mktemp("tiny_lm")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def toy_comparison_rows(split: str = "train", n: int = 100, seed: int = 0) -> list[dict]:
    """Toy human comparisons for tests: one pair of policy-like summaries per post ("train": the toy
    world's label posts, "test": its eval posts), rated by a simulated rater, in the comparisons schema."""
    from rlaif_lib import toy_world
    from rlaif_lib.toy_world.corruptions import sample_policy_pair

    posts = toy_world.generate_posts(n, {"train": "label", "test": "eval"}[split], seed)
    rng = random.Random(f"toy-comparisons:{seed}:{split}")
    rows = []
    for i, post in enumerate(posts):
        a, b, kind_a, kind_b = sample_policy_pair(post, rng)
        choice, confidence = toy_world.human_preference(post, a, b, rng)
        rows.append(dict(toy_world.comparison_row(post, a, b, choice, confidence, (f"toy-{kind_a}", f"toy-{kind_b}"), split),
                         worker=f"sim-{i % 10}"))
    return rows
