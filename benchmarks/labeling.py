"""Benchmark: AI labeling of N pairs, naive loop vs `label_pairs`, same labels.

(a) naive: one prompt at a time, both orders, a plain forward pass of the whole prompt each time;
(b) `label_pairs`: preamble + exemplar run once and their KV cache shared, both orders of a pair in
    one batch, suffixes right-padded, only the scored positions go through the LM head.
SmolLM2-135M-Instruct on this CPU, Detailed 1-shot prompt (the chat rendering, the kit's default).
The labels must agree within 1e-4 (asserted); the last line printed is `speedup: X.XX`.

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python benchmarks/labeling.py [--n 24] [--batch-size 8]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def make_pairs(n: int) -> tuple[list[dict], list[dict]]:
    """n evaluated pairs (ToyTLDR "label" posts, policy-like summaries) and training pairs with a
    simulated human choice (ToyTLDR "sft" posts) to pick the exemplar from."""
    from rlaif_lib import toy_world as T

    def pairs(split, count, seed):
        rows = []
        for i, (post, a, b) in enumerate(T.policy_like_pairs(T.generate_posts(count, split, seed=seed), seed=seed)):
            choice, confidence = T.human_preference(post, a, b, seed * 1000 + i)
            rows.append({"id": f"{post.id}", "post": post.body, "title": post.title, "subreddit": post.subreddit,
                         "summary_a": a, "summary_b": b, "choice": choice, "confidence": confidence})
        return rows

    return pairs("label", n, 0), pairs("sft", 16, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()

    from rlaif_lib import labeling as L
    from rlaif_lib.labeling.scoring import encode

    print(f"torch threads: {torch.get_num_threads()}")
    model, tok, _ = L.load_labeler("smollm2-135m-instruct")
    pairs, train = make_pairs(args.n)
    exemplars = L.select_exemplars(train, 1, seed=0)
    cfg = L.LabelConfig(preamble="detailed", shots=1, batch_size=args.batch_size)
    prompts = [L.build_prompt(p, cfg, exemplars, swap=s, tokenizer=tok) for p in pairs for s in (False, True)]
    lengths = [len(encode(tok, x)) for x in prompts]
    print(f"{len(pairs)} pairs, Detailed 1-shot, chat template; prompt tokens: mean {np.mean(lengths):.0f}, "
          f"max {max(lengths)}")

    L.soft_label(model, tok, prompts[:1])  # warm-up, not timed
    t0 = time.perf_counter()
    naive = np.concatenate([L.soft_label(model, tok, [x])[0] for x in prompts])  # one prompt at a time
    t_naive = time.perf_counter() - t0

    t0 = time.perf_counter()
    labels = L.label_pairs(pairs, (model, tok), cfg, exemplars=exemplars, progress=False)
    t_fast = time.perf_counter() - t0

    fast = np.array([[r["probs_ab"], r["probs_ba"]] for r in labels]).reshape(-1, 2)
    diff = float(np.abs(fast - naive).max())
    assert diff < 1e-4, f"labels differ: max |diff| = {diff:.2e}"
    p_a = (naive[0::2, 0] + naive[1::2, 1]) / 2
    assert np.allclose(p_a, [r["p_a"] for r in labels], atol=1e-4)

    n = len(pairs)
    print(f"naive loop:  {t_naive:7.1f} s  ({t_naive / n:.2f} s per pair, both orders)")
    print(f"label_pairs: {t_fast:7.1f} s  ({t_fast / n:.2f} s per pair, both orders, batch {args.batch_size} pairs)")
    print(f"max |diff| between the two: {diff:.1e}")
    bias = L.position_bias(labels)
    print(f"(for the record, not tuned on) other_mass mean {np.mean([r['other_mass'] for r in labels]):.2f}; "
          f"same position after swap {bias['same_position_pct']:.0f}%; "
          f"alignment with simulated humans {L.alignment(labels, pairs)['value']:.2f}")
    print(f"speedup: {t_naive / t_fast:.2f}")


if __name__ == "__main__":
    main()
