"""The talk's live demo: the real AI labeler (SmolLM2-135M-Instruct, offline) labels one pair in
both orders, in a few seconds on a laptop CPU.

    .venv/bin/python slides/live_demo.py            # a toy-world post, its reference TL;DR vs a worse one
    .venv/bin/python slides/live_demo.py --seed 3   # another post

It prints the two soft labels (one per order), their position-debiased average (Sec. 2.1.1), and,
because the pair comes from the toy world, which summary the simulated gold rater prefers.
`slides/build.py` runs this script at build time and puts its output on the demo slide; when the
model is not available it shows the stored output in `slides/live_demo_output.txt` instead.
"""
from __future__ import annotations

import argparse
import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rlaif_lib import toy_world
from rlaif_lib.method.labeling import ENDING, LabelConfig, build_prompt, soft_label
from rlaif_lib.models import load_causal_lm


def demo_pair(seed: int = 0) -> tuple[dict, float, float]:
    """One held-out toy post with its reference TL;DR (A) and a version missing a key fact (B), and
    the simulated gold rater's score of each."""
    post = toy_world.generate_posts(seed + 1, split="eval", seed=0)[seed]
    worse = toy_world.corrupt_summary(post, "drop_fact", random.Random(seed))
    pair = {"id": post.id, "post": f"{post.title}\n{post.body}", "summary_a": post.reference, "summary_b": worse}
    return pair, toy_world.gold_score(post, post.reference), toy_world.gold_score(post, worse)


def main(argv=None) -> None:
    """Label one pair both ways with the real 135M labeler and print the soft labels."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0, help="which held-out toy post (default 0)")
    ap.add_argument("--preamble", default="base", choices=("base", "detailed"))
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    start = time.time()
    pair, gold_a, gold_b = demo_pair(args.seed)
    model, tokenizer = load_causal_lm("smollm2-135m-instruct")
    config = LabelConfig(preamble=args.preamble)
    prompts = [build_prompt(pair, config, swap=swap, tokenizer=tokenizer) for swap in (False, True)]
    probs, other = soft_label(model, tokenizer, prompts)
    p_a = (probs[0][0] + probs[1][1]) / 2  # A is "1" in the first order, "2" in the swapped one

    print(f"Summary A: {pair['summary_a']}")
    print(f"Summary B: {pair['summary_b']}")
    print(f"Prompt ends with: ...{ENDING!r}  ({args.preamble} preamble, 0-shot)")
    print(f"A shown first : P('1') = {probs[0][0]:.3f}  P('2') = {probs[0][1]:.3f}  -> P(A better) = {probs[0][0]:.3f}")
    print(f"B shown first : P('1') = {probs[1][0]:.3f}  P('2') = {probs[1][1]:.3f}  -> P(A better) = {probs[1][1]:.3f}")
    print(f"Debiased label: P(A better) = {p_a:.3f}  (mean of the two orders)")
    kept = "1" if probs[0][0] >= probs[0][1] and probs[1][0] >= probs[1][1] else (
        "2" if probs[0][1] > probs[0][0] and probs[1][1] > probs[1][0] else None)
    print("Same position both times: " + (f"yes, position {kept} (position bias)" if kept else "no"))
    print(f"Gold rater (simulated): A {gold_a:.2f}, B {gold_b:.2f} -> prefers {'A' if gold_a > gold_b else 'B'}")
    print(f"Mass outside '1'/'2': {other.mean():.2f}   Wall time: {time.time() - start:.1f} s on CPU")


if __name__ == "__main__":
    main()
