"""Profile of AI labeling on this CPU: where one batch's time goes, and what each candidate speed-up buys.

Not a test and not the benchmark (that is benchmarks/labeling.py): a measurement script whose output
decided what went into the labeler. Sections (pick with --sections):

  peak        the machine's matmul throughput (fp32, bf16, int8) at the labeler's shapes, 1 and 2 threads
  breakdown   one batch of the current labeler, phase by phase (tokenize, shared prefix, copy of the
              prefix KV, the post, the summaries, LM head, 2-way softmax), tokens real vs padded,
              and the achieved fraction of the fp32 matmul peak; the naive loop for comparison
  variants    end to end on the same pairs: batch size, threads, attention kernel, bf16 weights,
              bf16 autocast, int8 dynamic quantization; time, and agreement of the argmax label
              with the fp32 labels (pair label p_a, and each single call)

Every ratio is measured within one run, so the load of other processes on the machine cancels out
as far as it can; absolute seconds are only as good as the machine was quiet.

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python benchmarks/profile_labeling.py [--n 16] [--sections peak breakdown variants]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings("ignore")


# ------------------------------------------------------------------------------------------ peak
def gemm_rate(dtype: str, m: int = 1024, k: int = 576, n: int = 1536, seconds: float = 1.0) -> float:
    """GFLOP/s of one (m x k) @ (k x n) product repeated for about `seconds`, in fp32, bf16 or int8
    (int8: `torch._int_mm`, raw int8 x int8 -> int32; "int8-dyn": a dynamically quantized nn.Linear,
    activation quantization included, oneDNN engine)."""
    if dtype in ("fp32", "bf16"):
        dt = torch.float32 if dtype == "fp32" else torch.bfloat16
        a, b = torch.randn(m, k, dtype=dt), torch.randn(k, n, dtype=dt)
        f = lambda: a @ b  # noqa: E731
    elif dtype == "int8":
        a, b = torch.randint(-64, 64, (m, k), dtype=torch.int8), torch.randint(-64, 64, (k, n), dtype=torch.int8)
        f = lambda: torch._int_mm(a, b)  # noqa: E731
    else:
        torch.backends.quantized.engine = "onednn"
        lin = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(k, n, bias=False)),
                                                     {torch.nn.Linear}, dtype=torch.qint8)
        a = torch.randn(m, k)
        f = lambda: lin(a)  # noqa: E731
    with torch.no_grad():
        for _ in range(3):
            f()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            f()
            count += 1
        return 2 * m * k * n * count / (time.perf_counter() - start) / 1e9


def section_peak() -> dict:
    print("\n== matmul peak (GFLOP/s), (1024 x 576) @ (576 x 1536), the labeler's MLP shape ==")
    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        rates = {d: max(gemm_rate(d) for _ in range(3)) for d in ("fp32", "bf16", "int8", "int8-dyn")}
        out[threads] = rates
        print(f"threads={threads}: " + "  ".join(f"{d} {r:7.1f}" for d, r in rates.items()))
    torch.set_num_threads(1)
    return out


# ------------------------------------------------------------------------------------------ breakdown
@contextmanager
def timer(store: dict, name: str):
    start = time.perf_counter()
    yield
    store[name].append(time.perf_counter() - start)


def linear_flops_per_token(model) -> float:
    """2 x the parameters a token goes through (every nn.Linear except the LM head, which is counted
    only at the positions actually read)."""
    head = model.get_output_embeddings()
    return 2.0 * sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head)


def profile_batch(model, tok, pairs, cfg, exemplars, repeats: int = 3) -> dict:
    """The current labeler's path for one batch (labeler._score_rows/_last_logprobs), phase by phase."""
    from rlaif_lib import labeler as L

    T = defaultdict(list)
    base, kw = model.base_model, L._cache_kw(model)
    ids12 = L.answer_token_ids(tok)
    for _ in range(repeats):
        with timer(T, "tokenize (render + encode)"):
            orders = [(p, s) for p in pairs for s in (False, True)]
            rendered = [L._render(p, cfg, exemplars, s, None, tok) for p, s in orders]
            rows = [L._encode(tok, full) for _, full in rendered]
            pre = L._encode(tok, rendered[0][0])
            pre = pre[:L._common([pre, rows[0]], 0, min(len(pre), len(rows[0]) - 1))]
        with timer(T, "shared prefix KV (once per run)"):
            cache = L._prefix_cache(model, pre)
        p = len(pre)
        groups = [[2 * i, 2 * i + 1] for i in range(len(pairs))]
        mids = [rows[g[0]][p:L._common([rows[i] for i in g], p, min(len(rows[i]) for i in g) - 1)] for g in groups]
        tails = [[rows[i][p + len(m):] for i in g] for g, m in zip(groups, mids)]
        m = max(map(len, mids))
        with torch.no_grad():
            with timer(T, "copy prefix KV (deepcopy + repeat)"):
                kv = copy.deepcopy(cache)
                kv.batch_repeat_interleave(len(mids))
            with timer(T, "post (once per pair)"):
                x, mask = torch.zeros((len(mids), m), dtype=torch.long), torch.ones((len(mids), p + m), dtype=torch.long)
                for g, r in enumerate(mids):
                    x[g, :len(r)] = torch.tensor(r)
                    mask[g, p + len(r):] = 0
                out = base(input_ids=x, attention_mask=mask, position_ids=torch.arange(p, p + m).expand(len(mids), m),
                           use_cache=True, **{kw: kv})
                kv = getattr(out, "cache", None) or out.past_key_values
            group = [g for g, ts in enumerate(tails) for _ in ts]
            flat = [t for ts in tails for t in ts]
            with timer(T, "select KV rows per order"):
                kv.batch_select_indices(torch.tensor(group))
            n, s = len(flat), max(map(len, flat))
            with timer(T, "summaries (each order)"):
                x, mask = torch.zeros((n, s), dtype=torch.long), torch.zeros((n, p + m + s), dtype=torch.long)
                pos = torch.zeros((n, s), dtype=torch.long)
                for r, (g, t) in enumerate(zip(group, flat)):
                    x[r, :len(t)] = torch.tensor(t)
                    mask[r, :p + len(mids[g])] = 1
                    mask[r, p + m:p + m + len(t)] = 1
                    pos[r] = torch.arange(s) + p + len(mids[g])
                hidden = base(input_ids=x, attention_mask=mask, position_ids=pos, use_cache=True, **{kw: kv}).last_hidden_state
            with timer(T, "LM head + log_softmax (read positions)"):
                at = torch.tensor([len(t) for t in flat]) - 1
                logp = torch.log_softmax(model.get_output_embeddings()(hidden[torch.arange(n), at]).float(), -1)
            with timer(T, "2-way softmax (read-out)"):
                L._two_way(logp, ids12)
    med = {k: statistics.median(v) for k, v in T.items()}
    tokens = {"prefix": p, "post_real": sum(map(len, mids)), "post_padded": len(mids) * m,
              "summaries_real": sum(map(len, flat)), "summaries_padded": n * s, "rows": n,
              "naive_per_row_mean": float(np.mean([len(r) for r in rows]))}
    return {"seconds": med, "tokens": tokens}


def naive_time(model, tok, prompts, repeats: int = 1) -> float:
    from rlaif_lib import labeler as L

    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for x in prompts:
            L.soft_label(model, tok, [x])
        best = min(best, time.perf_counter() - start)
    return best


def section_breakdown(model, tok, pairs, exemplars, configs, peak_fp32: float | None) -> None:
    from rlaif_lib import labeler as L

    fpt = linear_flops_per_token(model)
    head = 2.0 * model.get_output_embeddings().weight.numel()
    for name, cfg in configs.items():
        batch = pairs[:cfg.batch_size]
        r = profile_batch(model, tok, batch, cfg, exemplars[:cfg.shots])
        sec, tk = r["seconds"], r["tokens"]
        per_batch = sum(v for k, v in sec.items() if "once per run" not in k)
        print(f"\n== breakdown: {name}, one batch of {len(batch)} pairs ({tk['rows']} rows), fp32, "
              f"{torch.get_num_threads()} thread(s) ==")
        for k, v in sec.items():
            share = "" if "once per run" in k else f"{100 * v / per_batch:5.1f}%"
            print(f"  {k:40s} {1000 * v:8.1f} ms  {share}")
        print(f"  {'per batch (prefix excluded)':40s} {1000 * per_batch:8.1f} ms")
        waste_post = 1 - tk["post_real"] / tk["post_padded"]
        waste_sum = 1 - tk["summaries_real"] / tk["summaries_padded"]
        print(f"  tokens: prefix {tk['prefix']} (once), post {tk['post_real']} real / {tk['post_padded']} padded "
              f"({100 * waste_post:.0f}% padding), summaries {tk['summaries_real']} real / {tk['summaries_padded']} "
              f"padded ({100 * waste_sum:.0f}% padding); naive: {tk['naive_per_row_mean']:.0f} tokens per row")
        work = fpt * (tk["post_padded"] + tk["summaries_padded"]) + head * tk["rows"]
        useful = fpt * (tk["post_real"] + tk["summaries_real"]) + head * tk["rows"]
        t_fwd = sec["post (once per pair)"] + sec["summaries (each order)"] + sec["LM head + log_softmax (read positions)"]
        prompts = [L.build_prompt(p, cfg, exemplars[:cfg.shots], swap=s, tokenizer=tok) for p in batch for s in (False, True)]
        t_naive = naive_time(model, tok, prompts)
        naive_work = fpt * tk["naive_per_row_mean"] * tk["rows"] + head * tk["rows"]
        msg = (f"  linear-layer GFLOP/s: batched forward {work / t_fwd / 1e9:.1f} (padded work), "
               f"{useful / per_batch / 1e9:.1f} (real tokens over the whole batch); naive loop "
               f"{naive_work / t_naive / 1e9:.1f}")
        if peak_fp32:
            msg += (f"; fraction of fp32 peak {peak_fp32:.0f}: batched {useful / per_batch / 1e9 / peak_fp32:.0%}, "
                    f"naive {naive_work / t_naive / 1e9 / peak_fp32:.0%}")
        print(msg)
        print(f"  naive loop on the same {len(batch)} pairs: {t_naive:.2f} s -> batch speedup {t_naive / per_batch:.2f}x "
              f"(token ratio {tk['naive_per_row_mean'] * tk['rows'] / (tk['post_real'] + tk['summaries_real']):.2f}x)")


# ------------------------------------------------------------------------------------------ variants
def quantized(model, engine: str = "onednn", skip_head: bool = True):
    """int8 dynamic quantization of every nn.Linear (weights per tensor; activations quantized on the
    fly per batch), the LM head kept in fp32 if `skip_head` (it is applied at the read positions only)."""
    torch.backends.quantized.engine = engine
    q = copy.deepcopy(model)
    names = {n for n, m in q.named_modules() if isinstance(m, torch.nn.Linear)}
    if skip_head:
        names.discard("lm_head")
    return torch.ao.quantization.quantize_dynamic(q, names, dtype=torch.qint8)


def bf16_body(model):
    """All weights in bf16 except the LM head, which stays fp32 (the read-out's precision)."""
    m = copy.deepcopy(model)
    head = copy.deepcopy(m.get_output_embeddings())
    m.to(torch.bfloat16)
    m.lm_head = head.float()  # untied fp32 copy
    return m


def packed_logprobs(model, prefix_layers, p: int, mids, tails):
    """Prototype: one forward per batch. Row g holds pair g's post (mids[g]) followed by each of its
    tails (one per order), behind the shared prefix whose per-layer (K, V) are `prefix_layers` (batch 1,
    expanded, not copied, to the batch). A tree-shaped 4D mask lets each tail see the prefix, the post
    and itself only, with position ids restarting after the post: the same numbers as running each
    order on its own, with no second forward, no copy of the KV per order, and padding only up to
    the longest pair. Returns log-softmax [rows, V] at each tail's last token, rows in tail order."""
    from transformers import DynamicCache

    n_groups = len(mids)
    width = max(len(m) + sum(map(len, ts)) for m, ts in zip(mids, tails))
    ids = torch.zeros((n_groups, width), dtype=torch.long)
    pos = torch.full((n_groups, width), p, dtype=torch.long)
    mask = torch.zeros((n_groups, 1, width, p + width), dtype=torch.bool)
    mask[..., :p] = True
    reads = []
    for g, (m, ts) in enumerate(zip(mids, tails)):
        ids[g, :len(m)] = torch.tensor(m, dtype=torch.long)
        pos[g, :len(m)] = torch.arange(p, p + len(m))
        mask[g, 0, :len(m), p:p + len(m)] = torch.ones(len(m), len(m), dtype=torch.bool).tril()
        off = len(m)
        for t in ts:
            ids[g, off:off + len(t)] = torch.tensor(t, dtype=torch.long)
            pos[g, off:off + len(t)] = torch.arange(p + len(m), p + len(m) + len(t))
            mask[g, 0, off:off + len(t), p:p + len(m)] = True
            mask[g, 0, off:off + len(t), p + off:p + off + len(t)] = torch.ones(len(t), len(t), dtype=torch.bool).tril()
            reads.append((g, off + len(t) - 1))
            off += len(t)
    kv = DynamicCache(ddp_cache_data=[(k.expand(n_groups, -1, -1, -1), v.expand(n_groups, -1, -1, -1))
                                      for k, v in prefix_layers], config=model.config)
    with torch.no_grad():
        hidden = model.base_model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True,
                                  cache=kv).last_hidden_state
        h = hidden[torch.tensor([g for g, _ in reads]), torch.tensor([i for _, i in reads])]
        return torch.log_softmax(model.get_output_embeddings()(h).float(), -1)


def packed_label(model, tok, pairs, cfg, exemplars, batch_size: int | None = None):
    """Prototype of the whole labeling path around `packed_logprobs` (no CoT): tokenize every row
    once, sort the pairs by token length, one forward per batch. Returns (seconds, p_a, calls)."""
    from rlaif_lib import labeler as L

    start = time.perf_counter()
    ex = exemplars[:cfg.shots]
    ids12 = list(L.answer_token_ids(tok))
    rendered = [[L._render(p, cfg, ex, s, None, tok) for s in (False, True)] for p in pairs]
    rows = [[L._encode(tok, full) for _, full in r] for r in rendered]
    pre = L._encode(tok, rendered[0][0][0])
    pre = pre[:L._common([pre, rows[0][0]], 0, min(len(pre), len(rows[0][0]) - 1))]
    assert all(r[:len(pre)] == pre for rs in rows for r in rs)
    cache = L._prefix_cache(model, pre)
    layers = [(layer.keys, layer.values) for layer in cache.layers]
    p = len(pre)
    mids = [rs[0][p:L._common(rs, p, min(map(len, rs)) - 1)] for rs in rows]
    tails = [[r[p + len(m):] for r in rs] for rs, m in zip(rows, mids)]
    order = sorted(range(len(pairs)), key=lambda i: len(mids[i]) + sum(map(len, tails[i])))
    probs = np.zeros((len(pairs), 2, 2))
    bs = batch_size or cfg.batch_size
    for b in range(0, len(order), bs):
        chunk = order[b:b + bs]
        lp = packed_logprobs(model, layers, p, [mids[i] for i in chunk], [tails[i] for i in chunk])
        pr = lp[:, ids12].double().softmax(-1).numpy().reshape(len(chunk), 2, 2)
        probs[chunk] = pr
    p_a = (probs[:, 0, 0] + probs[:, 1, 1]) / 2
    return time.perf_counter() - start, p_a, probs[:, :, 0]


def labels_of(model, tok, pairs, cfg, exemplars, autocast: bool = False):
    from rlaif_lib import labeler as L

    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        rows = L.label_pairs(pairs, (model, tok), cfg, exemplars=exemplars[:cfg.shots], progress=False)
    seconds = time.perf_counter() - start
    p_a = np.array([r["p_a"] for r in rows])
    calls = np.array([[r["probs_ab"][0], r["probs_ba"][0]] for r in rows])
    return seconds, p_a, calls


def agreement(ref, other) -> dict:
    (p_a0, c0), (p_a1, c1) = ref, other
    return {"pair_label": float(np.mean((p_a0 > 0.5) == (p_a1 > 0.5))),
            "calls": float(np.mean((c0 > 0.5) == (c1 > 0.5))), "max_dp": float(np.abs(p_a0 - p_a1).max())}


@contextmanager
def gqa_in_sdpa(on: bool):
    """transformers repeats K/V per query head before SDPA whenever there is a mask; with this switch
    it passes `enable_gqa=True` to torch's SDPA instead (no copy)."""
    import os

    old = os.environ.get("TRANSFORMERS_SDPA_FORCE_GQA")
    os.environ["TRANSFORMERS_SDPA_FORCE_GQA"] = "1" if on else "0"
    try:
        yield
    finally:
        os.environ.pop("TRANSFORMERS_SDPA_FORCE_GQA") if old is None else os.environ.update(TRANSFORMERS_SDPA_FORCE_GQA=old)


def section_variants(model, tok, pairs, exemplars, configs, precision: bool = True) -> None:
    from dataclasses import replace

    from rlaif_lib import labeler as L

    eager = copy.deepcopy(model)
    eager.config._attn_implementation = "eager"
    bf16, int8 = (bf16_body(model), quantized(model, "onednn")) if precision else (None, None)
    for name, cfg in configs.items():
        print(f"\n== variants: {name}, {len(pairs)} pairs: seconds, speed vs the current fp32 path and vs the naive "
              f"loop (1 thread), agreement of the argmax label with fp32 ==")
        prompts = [L.build_prompt(p, cfg, exemplars[:cfg.shots], swap=s, tokenizer=tok) for p in pairs for s in (False, True)]
        t_naive = naive_time(model, tok, prompts)
        t0, *ref = labels_of(model, tok, pairs, cfg, exemplars)
        torch.set_num_threads(2)
        t_naive2 = naive_time(model, tok, prompts)
        torch.set_num_threads(1)
        print(f"  naive loop fp32: 1 thread {t_naive:.1f} s, 2 threads {t_naive2:.1f} s ({t_naive / t_naive2:.2f}x); "
              f"current label_pairs fp32 batch {cfg.batch_size}, 1 thread: {t0:.1f} s ({t_naive / t0:.2f}x naive)")
        packed = lambda m, c, *_: packed_label(m, tok, pairs, c, exemplars)  # noqa: E731
        current = lambda m, c, autocast=False: labels_of(m, tok, pairs, c, exemplars, autocast)  # noqa: E731
        rows = [("current, batch 16", current, model, replace(cfg, batch_size=16), False, 1, False),
                ("current, eager attention", current, eager, cfg, False, 1, False),
                ("current, GQA in SDPA", current, model, cfg, False, 1, True),
                ("packed (tree mask), batch 8", packed, model, cfg, False, 1, False),
                ("packed + GQA in SDPA, batch 8", packed, model, cfg, False, 1, True),
                ("packed + GQA, batch 16", packed, model, replace(cfg, batch_size=16), False, 1, True),
                ("packed + GQA, batch 8, 2 threads", packed, model, cfg, False, 2, True),
                ("current, 2 threads", current, model, cfg, False, 2, False)]
        if precision:
            rows += [("current, bf16 autocast (fp32 weights)", current, model, cfg, True, 1, False),
                     ("current, bf16 weights, fp32 LM head", current, bf16, cfg, False, 1, False),
                     ("current, int8 dynamic (oneDNN), fp32 head", current, int8, cfg, False, 1, False)]
        for label, fn, m, c, autocast, threads, gqa in rows:
            torch.set_num_threads(threads)
            try:
                with gqa_in_sdpa(gqa):
                    t, *res = fn(m, c, autocast)
            except Exception as e:  # a variant that does not run here is a finding, not a crash
                print(f"  {label:44s} failed: {type(e).__name__}: {str(e)[:120]}")
                continue
            finally:
                torch.set_num_threads(1)
            a = agreement(ref, res)
            print(f"  {label:44s} {t:7.1f} s  x{t0 / t:5.2f} current, x{t_naive / t:6.2f} naive;  agreement: "
                  f"pair {a['pair_label']:6.1%}, calls {a['calls']:6.1%}; max |dp_a| {a['max_dp']:.1e}", flush=True)


# ------------------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16, help="pairs for the variants section")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--sections", nargs="*", default=["peak", "breakdown", "variants"])
    ap.add_argument("--configs", nargs="*", default=["0shot", "1shot"])
    ap.add_argument("--no-precision", action="store_true", help="skip the bf16/int8 variants")
    args = ap.parse_args()
    torch.set_num_threads(1)

    from labeling import make_pairs

    from rlaif_lib import labeler as L

    model, tok = L._load("smollm2-135m-instruct")
    pairs, train = make_pairs(args.n)
    exemplars = L.select_exemplars(train, 1, seed=0)
    configs = {"0shot": ("tiny preset (Detailed 0-shot, chat)", L.LabelConfig(batch_size=args.batch_size)),
               "1shot": ("Detailed 1-shot, chat", L.LabelConfig(preamble="detailed", shots=1, batch_size=args.batch_size))}
    configs = dict(configs[c] for c in args.configs)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); model {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M "
          f"parameters, {linear_flops_per_token(model) / 2e6:.1f}M in the linear layers a token goes through")
    peak = section_peak() if "peak" in args.sections else None
    if "breakdown" in args.sections:
        section_breakdown(model, tok, pairs, exemplars, configs, peak[1]["fp32"] if peak else None)
    if "variants" in args.sections:
        section_variants(model, tok, pairs, exemplars, configs, not args.no_precision)


if __name__ == "__main__":
    main()
