"""Benchmark: AI labeling of N pairs, the naive loop vs `label_pairs`, same labels.

(a) naive: `soft_label` one prompt at a time, both orders, a plain fp32 forward pass of the whole
    prompt each time, one thread (the reference implementation, as this benchmark always ran it);
(b) `label_pairs` (the kit's path, the one every stage uses): the preamble (+ exemplars) runs once
    and its KV cache is broadcast to every batch; per pair, the post runs once and both orders'
    summaries follow it in the same row under a tree-shaped attention mask (one forward pass per
    batch, no per-order copy of the KV cache, padding only to the longest pair, pairs sorted by
    length); K/V heads shared in SDPA (no per-head copy); the LM head only at the read positions.
    fp32, the same numbers as (a): the labels must agree within 1e-4 (asserted).

Both configurations are measured: the one the `tiny` preset's label stage uses (Detailed 1-shot,
chat template, chosen on a validation split: experiments/selection.py) and Detailed 0-shot. For each: seconds, the argmax agreement
with the naive labels, and the achieved share of this machine's fp32 matmul throughput, measured in
the same run (FLOPs = 2 x the linear-layer parameters x the tokens actually run). Reduced precision
(int8 dynamic quantization, bf16) is measured for its label agreement only when asked (`--precision`):
neither reaches 98% (measured on a tiny run's 380 pairs: bf16 weights 93.4%, int8 about 50%; the
labeler's soft labels sit within about 0.013 of 0.5), so the kit does not use them. The naive loop
also runs with all cores, for the speedup at equal threads. The last line printed is
`speedup: X.XX`: the naive loop (1 thread, as this benchmark always ran it) vs `label_pairs` with the
threads the demo uses (all cores, torch's default), for the tiny preset's configuration.

    HF_HUB_OFFLINE=1 python benchmarks/labeling.py [--n 24] [--batch-size 8] [--precision]
"""
from __future__ import annotations

import argparse
import copy
import os
import time
import warnings

import numpy as np
import torch
from speed_probe import best_gemm_rate


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


def tokens_run(tok, pairs, cfg, exemplars) -> tuple[int, int]:
    """(tokens `label_pairs` runs through the model: the shared prefix once, each post once, each order's
    rest once; tokens the naive loop runs: every full prompt)."""
    from rlaif_lib.method.labeling.prompts import render_prompt
    from rlaif_lib.method.labeling.scoring import _common, encode

    prefix = None
    fast, naive = 0, 0
    for p in pairs:
        rendered = [render_prompt(p, cfg, exemplars, s, None, tok) for s in (False, True)]
        rows = [encode(tok, full) for _, full in rendered]
        prefix = prefix or len(encode(tok, rendered[0][0]))
        mid = _common(rows, prefix, min(map(len, rows)) - 1)
        fast += (mid - prefix) + sum(len(r) - mid for r in rows)
        naive += sum(map(len, rows))
    return fast + prefix, naive


def precision_variants(model):
    """The reduced-precision labelers tried (and not used): int8 dynamic quantization of every
    nn.Linear but the LM head (oneDNN engine), and bf16 weights with an fp32 LM head."""
    warnings.filterwarnings("ignore")
    torch.backends.quantized.engine = "onednn"
    int8 = copy.deepcopy(model)
    names = {n for n, mod in int8.named_modules() if isinstance(mod, torch.nn.Linear) and n != "lm_head"}
    int8 = torch.ao.quantization.quantize_dynamic(int8, names, dtype=torch.qint8)
    bf16 = copy.deepcopy(model)
    head = copy.deepcopy(bf16.get_output_embeddings())
    bf16.to(torch.bfloat16)
    bf16.lm_head = head.float()
    return {"int8 dynamic quantization": int8, "bf16 weights": bf16}


def agreement(p_ref, p) -> float:
    """Share of pairs whose argmax label (p_a > 0.5) is the same."""
    return float(np.mean((np.asarray(p_ref) > 0.5) == (np.asarray(p) > 0.5)))


def bench(name, model, tok, pairs, cfg, exemplars, threads, peaks, precision) -> dict:
    from rlaif_lib.method import labeling as L

    linear = 2.0 * sum(m.weight.numel() for m in model.modules()
                       if isinstance(m, torch.nn.Linear) and m is not model.get_output_embeddings())
    head = 2.0 * model.get_output_embeddings().weight.numel()
    ex = exemplars[:cfg.shots]
    prompts = [L.build_prompt(p, cfg, ex, swap=s, tokenizer=tok) for p in pairs for s in (False, True)]
    fast_tokens, naive_tokens = tokens_run(tok, pairs, cfg, ex)
    print(f"\n== {name}: {len(pairs)} pairs, prompt tokens per order {naive_tokens / len(prompts):.0f}; "
          f"tokens run: naive {naive_tokens}, label_pairs {fast_tokens} ({naive_tokens / fast_tokens:.2f}x fewer)")

    torch.set_num_threads(1)
    L.soft_label(model, tok, prompts[:1])  # warm-up, not timed
    t0, c0 = time.perf_counter(), time.process_time()
    naive = np.concatenate([L.soft_label(model, tok, [x])[0] for x in prompts])  # one prompt at a time
    t_naive, c_naive = time.perf_counter() - t0, time.process_time() - c0
    p_naive = (naive[0::2, 0] + naive[1::2, 1]) / 2
    naive_threads = {}  # the naive loop with all cores too: the speedup at equal threads
    for n_threads in threads[1:]:
        torch.set_num_threads(n_threads)
        t0 = time.perf_counter()
        for x in prompts:
            L.soft_label(model, tok, [x])
        naive_threads[n_threads] = time.perf_counter() - t0

    times = {}
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        t0, c0 = time.perf_counter(), time.process_time()
        labels = L.label_pairs(pairs, (model, tok), cfg, exemplars=ex, progress=False)
        times[n_threads] = (time.perf_counter() - t0, time.process_time() - c0)
        fast = np.array([[r["probs_ab"], r["probs_ba"]] for r in labels]).reshape(-1, 2)
        diff = float(np.abs(fast - naive).max())
        assert diff < 1e-4, f"labels differ: max |diff| = {diff:.2e}"
        assert np.allclose(p_naive, [r["p_a"] for r in labels], atol=1e-4)
    torch.set_num_threads(1)

    flops_naive = (linear * naive_tokens + head * len(prompts)) / 1e9
    flops_fast = (linear * fast_tokens + head * len(prompts)) / 1e9
    n = len(pairs)

    def share(flops, wall, cpu, threads):
        """achieved GFLOP/s and share of the matmul peak, per wall second and per CPU second"""
        (pw, pc) = peaks[threads]
        return (f"{flops / wall:.1f} GFLOP/s = {flops / wall / pw:.0%} of the fp32 matmul peak "
                f"({flops / cpu:.1f} per CPU second = {flops / cpu / pc:.0%})")

    print(f"  naive loop, fp32, 1 thread:   {t_naive:7.1f} s  ({t_naive / n:.2f} s per pair; CPU {c_naive:.1f} s); "
          f"{share(flops_naive, t_naive, c_naive, 1)}")
    for n_threads, t in naive_threads.items():
        print(f"  naive loop, fp32, {n_threads} threads: {t:7.1f} s  ({t / n:.2f} s per pair)")
    for n_threads, (t, c) in times.items():
        print(f"  label_pairs, fp32, {n_threads} thread{'s' if n_threads > 1 else ' '}: {t:7.1f} s  ({t / n:.2f} s per pair; "
              f"CPU {c:.1f} s); {share(flops_fast, t, c, n_threads)}; x{t_naive / t:.2f} vs naive (1 thread)"
              + (f", x{c_naive / c:.2f} in CPU seconds" if n_threads == 1 else
                 f", x{naive_threads[n_threads] / t:.2f} vs naive at {n_threads} threads"))
    print(f"  label agreement (argmax of p_a) with the naive loop: {agreement(p_naive, [r['p_a'] for r in labels]):.1%}, "
          f"max |diff| {diff:.1e} (fp32, the path the demo uses)")
    margin = np.abs(p_naive - 0.5)
    print(f"  (for the record, not tuned on) |p_a - 0.5|: median {np.median(margin):.4f}, 10th percentile "
          f"{np.quantile(margin, 0.1):.4f}; same position after swap {L.position_bias(labels)['same_position_pct']:.0f}%; "
          f"alignment with simulated humans {L.alignment(labels, pairs)['value']:.2f}")
    if precision:
        for label, m in precision_variants(model).items():
            t0 = time.perf_counter()
            rows = L.label_pairs(pairs, (m, tok), cfg, exemplars=ex, progress=False)
            t = time.perf_counter() - t0
            print(f"  not used: {label}, 1 thread: {t:.1f} s (x{t_naive / t:.2f} vs naive); agreement with fp32 "
                  f"{agreement(p_naive, [r['p_a'] for r in rows]):.1%}, max |diff p_a| "
                  f"{np.abs(p_naive - [r['p_a'] for r in rows]).max():.3f}")
    return {"naive": t_naive, "fast": {k: v[0] for k, v in times.items()}, "naive_cpu": c_naive, "fast_cpu": times[1][1],
            "naive_threads": naive_threads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--batch-size", type=int, default=None, help="pairs per batch (default: the preset's)")
    ap.add_argument("--precision", action="store_true", help="also measure int8 / bf16 label agreement")
    args = ap.parse_args()

    from dataclasses import replace

    from rlaif_lib.method import labeling as L
    from rlaif_lib.presets import get_preset

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = sorted({1, cores})
    peaks = {}
    for t in threads:  # the fp32 peak at the labeler's MLP shape (1024 x 576) @ (576 x 1536)
        torch.set_num_threads(t)
        peaks[t] = best_gemm_rate(1024, 576, 1536)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}; {cores} cores; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; fp32 matmul "
          f"peak (1024x576 @ 576x1536): " + ", ".join(f"{w:.1f} GFLOP/s ({c:.1f} per CPU second) at {t} thread"
                                                     f"{'s' if t > 1 else ''}" for t, (w, c) in peaks.items()))
    model, tok, _ = L.load_labeler("smollm2-135m-instruct")
    pairs, train = make_pairs(args.n)
    exemplars = L.select_exemplars(train, 1, seed=0)
    tiny = get_preset("tiny").label
    configs = {f"tiny preset's labeling ({tiny.preamble} {tiny.shots}-shot, "
               f"{'chat template' if tiny.chat_template else 'raw prompt'})": tiny,
               f"Detailed {0 if tiny.shots else 1}-shot, chat template": replace(tiny, preamble="detailed",
                                                                              shots=0 if tiny.shots else 1, cot=False)}
    results = {}
    for name, cfg in configs.items():
        if args.batch_size:
            cfg = replace(cfg, batch_size=args.batch_size)
        results[name] = bench(name, model, tok, pairs, cfg, exemplars, threads, peaks, args.precision)
    print()
    for name, r in results.items():
        eq = (f", x{r['naive_threads'][cores] / r['fast'][cores]:.2f} vs the naive loop at {cores} threads too"
              if cores in r["naive_threads"] else "")
        print(f"{name}: speedup x{r['naive'] / r['fast'][1]:.2f} at 1 thread (x{r['naive_cpu'] / r['fast_cpu']:.2f} in CPU "
              f"seconds), x{r['naive'] / r['fast'][cores]:.2f} with {cores} threads (naive at 1 thread){eq}")
    first = next(iter(results.values()))
    print(f"speedup: {first['naive'] / first['fast'][cores]:.2f}")


if __name__ == "__main__":
    main()
