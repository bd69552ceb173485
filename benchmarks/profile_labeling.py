"""Profile of AI labeling on this CPU: where one batch's time goes, and what each candidate speed-up buys.

Not a test and not the benchmark (that is benchmarks/labeling.py): the measurements that decided
what went into the labeling engine (rlaif_lib/method/labeling/scoring.py). Sections (pick with --sections):

  peak        the machine's matmul throughput (fp32, bf16, int8) at the labeler's MLP shape, 1 and 2 threads
  breakdown   one batch, phase by phase, of a two-pass engine (two forward passes: the post, then each
              order's summaries after a copy of the KV cache) and of the kit's engine (one
              tree-masked forward), with tokens real vs padded and the achieved share of the fp32 peak;
              the naive loop for comparison
  variants    `label_pairs` end to end on the same pairs: batch size, threads, attention kernel, K/V
              heads shared in SDPA (enable_gqa), bf16 autocast, bf16 weights, int8 dynamic quantization;
              seconds, and agreement of the argmax label with the fp32 labels (per pair and per call)

Times are wall-clock AND process CPU seconds. On a machine that other jobs load, the CPU seconds of a
one-thread run are the better measure (they barely move with the load); ratios are taken within one
run. Threads: OpenMP's default wait policy (set OMP_WAIT_POLICY=PASSIVE to compare: on an idle machine it
made no difference to labeling and slowed training 1.7x, so the kit does not set it).

    HF_HUB_OFFLINE=1 python benchmarks/profile_labeling.py [--n 16] [--sections peak breakdown variants]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import os
import statistics
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from speed_probe import best_gemm_rate  # noqa: E402
warnings.filterwarnings("ignore")


# ------------------------------------------------------------------------------------------ peak
def section_peak() -> dict:
    print("\n== matmul peak (GFLOP per wall second / per CPU second, best of 3), (1024 x 576) @ (576 x 1536), "
          "the labeler's MLP shape ==")
    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        rates = {d: best_gemm_rate(1024, 576, 1536, d, seconds=3.0) for d in ("fp32", "bf16", "int8", "int8-dyn")}
        out[threads] = {d: r[1] for d, r in rates.items()}  # per CPU second: what one core does, load or not
        print(f"threads={threads}: " + "  ".join(f"{d} {w:6.1f} wall / {c:6.1f} CPU" for d, (w, c) in rates.items()))
    torch.set_num_threads(1)
    return out


# ------------------------------------------------------------------------------------------ breakdown
class Clock:
    """Wall and CPU seconds per named phase (medians over repeats)."""

    def __init__(self):
        self.wall, self.cpu = defaultdict(list), defaultdict(list)

    @contextlib.contextmanager
    def __call__(self, name: str):
        w, c = time.perf_counter(), time.process_time()
        yield
        self.wall[name].append(time.perf_counter() - w)
        self.cpu[name].append(time.process_time() - c)

    def medians(self):
        return ({k: statistics.median(v) for k, v in self.wall.items()},
                {k: statistics.median(v) for k, v in self.cpu.items()})


def linear_flops_per_token(model) -> float:
    """2 x the parameters a token goes through (every nn.Linear except the LM head, which is counted
    only at the positions actually read)."""
    head = model.get_output_embeddings()
    return 2.0 * sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head)


def _prepare(model, tok, pairs, cfg, exemplars, clock):
    from rlaif_lib.method.labeling.prompts import render_prompt
    from rlaif_lib.method.labeling.scoring import _common, encode, prefix_cache

    with clock("tokenize (render + encode)"):
        rendered = [render_prompt(p, cfg, exemplars, s, None, tok) for p in pairs for s in (False, True)]
        rows = [encode(tok, full) for _, full in rendered]
        pre = encode(tok, rendered[0][0])
        pre = pre[:_common([pre, rows[0]], 0, min(len(pre), len(rows[0]) - 1))]
    with clock("shared prefix KV (once per run)"):
        cache = prefix_cache(model, pre)
    p = len(pre)
    groups = [[2 * i, 2 * i + 1] for i in range(len(pairs))]
    mids = [rows[g[0]][p:_common([rows[i] for i in g], p, min(len(rows[i]) for i in g) - 1)] for g in groups]
    tails = [[rows[i][p + len(m):] for i in g] for g, m in zip(groups, mids)]
    return rows, pre, cache, mids, tails


def profile_two_pass(model, tok, pairs, cfg, exemplars, repeats: int = 2) -> dict:
    """A two-pass engine, phase by phase: the prefix KV deep-copied and repeated per pair,
    a forward pass over the posts (right-padded), the KV rows selected per order, a second forward
    pass over each order's summaries (right-padded), the LM head at the read positions."""
    from rlaif_lib.method.labeling.scoring import _cache_kw, answer_token_ids, two_way

    clock, base, kw, ids12 = Clock(), model.base_model, _cache_kw(model), answer_token_ids(tok)
    for _ in range(repeats):
        rows, pre, cache, mids, tails = _prepare(model, tok, pairs, cfg, exemplars, clock)
        p, m = len(pre), max(map(len, mids))
        with torch.no_grad():
            with clock("copy prefix KV (deepcopy + repeat)"):
                kv = copy.deepcopy(cache)
                kv.batch_repeat_interleave(len(mids))
            with clock("post (once per pair)"):
                x, mask = torch.zeros((len(mids), m), dtype=torch.long), torch.ones((len(mids), p + m), dtype=torch.long)
                for g, r in enumerate(mids):
                    x[g, :len(r)] = torch.tensor(r)
                    mask[g, p + len(r):] = 0
                out = base(input_ids=x, attention_mask=mask, position_ids=torch.arange(p, p + m).expand(len(mids), m),
                           use_cache=True, **{kw: kv})
                kv = getattr(out, "cache", None) or out.past_key_values
            group = [g for g, ts in enumerate(tails) for _ in ts]
            flat = [t for ts in tails for t in ts]
            with clock("select KV rows per order"):
                kv.batch_select_indices(torch.tensor(group))
            n, s = len(flat), max(map(len, flat))
            with clock("summaries (each order)"):
                x, mask = torch.zeros((n, s), dtype=torch.long), torch.zeros((n, p + m + s), dtype=torch.long)
                pos = torch.zeros((n, s), dtype=torch.long)
                for r, (g, t) in enumerate(zip(group, flat)):
                    x[r, :len(t)] = torch.tensor(t)
                    mask[r, :p + len(mids[g])] = 1
                    mask[r, p + m:p + m + len(t)] = 1
                    pos[r] = torch.arange(s) + p + len(mids[g])
                hidden = base(input_ids=x, attention_mask=mask, position_ids=pos, use_cache=True, **{kw: kv}).last_hidden_state
            with clock("LM head + log_softmax (read positions)"):
                at = torch.tensor([len(t) for t in flat]) - 1
                logp = torch.log_softmax(model.get_output_embeddings()(hidden[torch.arange(n), at]).float(), -1)
            with clock("2-way softmax (read-out)"):
                two_way(logp, ids12)
    wall, cpu = clock.medians()
    tokens = {"prefix": p, "real": sum(map(len, mids)) + sum(map(len, flat)), "padded": len(mids) * m + n * s,
              "rows": n, "naive_per_row": float(np.mean([len(r) for r in rows]))}
    return {"wall": wall, "cpu": cpu, "tokens": tokens}


def profile_tree(model, tok, pairs, cfg, exemplars, repeats: int = 2) -> dict:
    """The engine now (`scoring.last_logprobs`), phase by phase: build the tree batch, one forward
    pass, the LM head at the read positions."""
    from rlaif_lib.method.labeling.scoring import _cache_kw, _mask, _prefix_kv, answer_token_ids, tree_batch, two_way

    clock, ids12 = Clock(), answer_token_ids(tok)
    for _ in range(repeats):
        rows, pre, cache, mids, tails = _prepare(model, tok, pairs, cfg, exemplars, clock)
        p = len(pre)
        with torch.no_grad():
            with clock("tree batch + mask"):
                ids, pos, allowed, reads = tree_batch(p, mids, tails)
                mask = _mask(allowed, torch.float32)
                kv = _prefix_kv(model, cache)
            with clock("one forward (posts + both orders)"):
                hidden = model.base_model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True,
                                          **{_cache_kw(model): kv}).last_hidden_state
            with clock("LM head + log_softmax (read positions)"):
                h = hidden.reshape(-1, hidden.shape[-1])[reads[:, 0]]
                logp = torch.log_softmax(model.get_output_embeddings()(h).float(), -1)
            with clock("2-way softmax (read-out)"):
                two_way(logp, ids12)
    wall, cpu = clock.medians()
    tokens = {"prefix": p, "real": sum(len(m) + sum(map(len, ts)) for m, ts in zip(mids, tails)),
              "padded": int(ids.numel()), "rows": len(rows), "naive_per_row": float(np.mean([len(r) for r in rows]))}
    return {"wall": wall, "cpu": cpu, "tokens": tokens}


def naive_time(model, tok, prompts) -> tuple[float, float]:
    """(wall, CPU) seconds of `soft_label` one prompt at a time."""
    from rlaif_lib.method.labeling import soft_label

    w, c = time.perf_counter(), time.process_time()
    for x in prompts:
        soft_label(model, tok, [x])
    return time.perf_counter() - w, time.process_time() - c


def section_breakdown(model, tok, pairs, exemplars, configs, peak_fp32: float | None) -> None:
    from rlaif_lib.method.labeling import build_prompt

    fpt = linear_flops_per_token(model)
    head = 2.0 * model.get_output_embeddings().weight.numel()
    for name, cfg in configs.items():
        batch = pairs[:cfg.batch_size]
        ex = exemplars[:cfg.shots]
        prompts = [build_prompt(p, cfg, ex, swap=s, tokenizer=tok) for p in batch for s in (False, True)]
        t_naive, c_naive = naive_time(model, tok, prompts)
        for engine, fn in (("before: two passes", profile_two_pass), ("now: one tree-masked pass", profile_tree)):
            r = fn(model, tok, batch, cfg, ex)
            wall, cpu, tk = r["wall"], r["cpu"], r["tokens"]
            per_wall = sum(v for k, v in wall.items() if "once per run" not in k)
            per_cpu = sum(v for k, v in cpu.items() if "once per run" not in k)
            print(f"\n== breakdown: {name}, {engine}; one batch of {len(batch)} pairs ({tk['rows']} rows), fp32, "
                  f"{torch.get_num_threads()} thread(s) ==")
            for k in wall:
                share = "" if "once per run" in k else f"{100 * cpu[k] / per_cpu:5.1f}% of CPU"
                print(f"  {k:42s} wall {1000 * wall[k]:8.1f} ms  CPU {1000 * cpu[k]:8.1f} ms  {share}")
            print(f"  {'per batch (prefix excluded)':42s} wall {1000 * per_wall:8.1f} ms  CPU {1000 * per_cpu:8.1f} ms")
            print(f"  tokens: prefix {tk['prefix']} (once), {tk['real']} real / {tk['padded']} run with padding "
                  f"({100 * (1 - tk['real'] / tk['padded']):.0f}% padding); naive: {tk['naive_per_row']:.0f} per row")
            useful = fpt * tk["real"] + head * tk["rows"]
            naive_work = fpt * tk["naive_per_row"] * tk["rows"] + head * tk["rows"]
            msg = (f"  linear-layer GFLOP/s per CPU second: engine {useful / per_cpu / 1e9:.1f}, "
                   f"naive loop {naive_work / c_naive / 1e9:.1f}")
            if peak_fp32:
                msg += (f"; share of the fp32 peak ({peak_fp32:.0f}): engine {useful / per_cpu / 1e9 / peak_fp32:.0%}, "
                        f"naive {naive_work / c_naive / 1e9 / peak_fp32:.0%}")
            print(msg)
            print(f"  naive loop on the same pairs: wall {t_naive:.2f} s, CPU {c_naive:.2f} s -> this batch is "
                  f"x{c_naive / per_cpu:.2f} faster in CPU seconds (x{t_naive / per_wall:.2f} wall); "
                  f"token ratio x{tk['naive_per_row'] * tk['rows'] / tk['real']:.2f}")


# ------------------------------------------------------------------------------------------ variants
def quantized(model, engine: str = "onednn"):
    """int8 dynamic quantization of every nn.Linear but the LM head (weights per tensor, activations
    quantized on the fly per batch); the LM head stays fp32 (it only runs at the read positions)."""
    torch.backends.quantized.engine = engine
    q = copy.deepcopy(model)
    names = {n for n, m in q.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"}
    return torch.ao.quantization.quantize_dynamic(q, names, dtype=torch.qint8)


def bf16_body(model):
    """All weights in bf16 except the LM head, which stays fp32 (the read-out's precision)."""
    m = copy.deepcopy(model)
    head = copy.deepcopy(m.get_output_embeddings())
    m.to(torch.bfloat16)
    m.lm_head = head.float()  # untied fp32 copy
    return m


def labels_of(model, tok, pairs, cfg, exemplars, autocast: bool = False):
    from rlaif_lib.method.labeling import label_pairs

    w, c = time.perf_counter(), time.process_time()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        rows = label_pairs(pairs, (model, tok), cfg, exemplars=exemplars[:cfg.shots], progress=False)
    p_a = np.array([r["p_a"] for r in rows])
    calls = np.array([[r["probs_ab"][0], r["probs_ba"][0]] for r in rows])
    return (time.perf_counter() - w, time.process_time() - c), p_a, calls


def agreement(ref, other) -> dict:
    (p_a0, c0), (p_a1, c1) = ref, other
    return {"pair_label": float(np.mean((p_a0 > 0.5) == (p_a1 > 0.5))),
            "calls": float(np.mean((c0 > 0.5) == (c1 > 0.5))), "max_dp": float(np.abs(p_a0 - p_a1).max())}


@contextlib.contextmanager
def gqa_in_sdpa():
    """transformers copies K/V once per query head before SDPA whenever a mask is given (SmolLM2: 9
    query heads share 3 K/V heads); this asks it to pass `enable_gqa=True` to SDPA instead."""
    old = os.environ.get("TRANSFORMERS_SDPA_FORCE_GQA")
    os.environ["TRANSFORMERS_SDPA_FORCE_GQA"] = "1"
    try:
        yield
    finally:
        os.environ.pop("TRANSFORMERS_SDPA_FORCE_GQA") if old is None else os.environ.update(TRANSFORMERS_SDPA_FORCE_GQA=old)


def section_variants(model, tok, pairs, exemplars, configs, precision: bool = True) -> None:
    from dataclasses import replace

    from rlaif_lib.method.labeling import build_prompt

    eager = copy.deepcopy(model)
    eager.config._attn_implementation = "eager"
    bf16, int8 = (bf16_body(model), quantized(model)) if precision else (None, None)
    for name, cfg in configs.items():
        print(f"\n== variants: {name}, {len(pairs)} pairs: `label_pairs` seconds (wall / CPU), speed vs the engine "
              f"at batch {cfg.batch_size} and 1 thread and vs the naive loop (CPU seconds at 1 thread, wall at 2), "
              f"agreement of the argmax label with fp32 ==")
        prompts = [build_prompt(p, cfg, exemplars[:cfg.shots], swap=s, tokenizer=tok) for p in pairs for s in (False, True)]
        t_naive = naive_time(model, tok, prompts)
        t0, *ref = labels_of(model, tok, pairs, cfg, exemplars)
        print(f"  naive loop fp32, 1 thread: wall {t_naive[0]:.1f} s, CPU {t_naive[1]:.1f} s;  engine fp32 batch "
              f"{cfg.batch_size}, 1 thread: wall {t0[0]:.1f} s, CPU {t0[1]:.1f} s (x{t_naive[1] / t0[1]:.2f} naive in CPU s)")
        rows = [("batch 4", model, replace(cfg, batch_size=4), False, 1, None),
                ("batch 16", model, replace(cfg, batch_size=16), False, 1, None),
                ("batch 32", model, replace(cfg, batch_size=32), False, 1, None),
                ("K/V heads shared in SDPA (enable_gqa)", model, cfg, False, 1, gqa_in_sdpa),
                ("eager attention (no SDPA)", eager, cfg, False, 1, None),
                ("2 threads", model, cfg, False, 2, None),
                ("2 threads, batch 16", model, replace(cfg, batch_size=16), False, 2, None)]
        if precision:
            rows += [("bf16 autocast (fp32 weights)", model, cfg, True, 1, None),
                     ("bf16 weights, fp32 LM head", bf16, cfg, False, 1, None),
                     ("int8 dynamic (oneDNN), fp32 LM head", int8, cfg, False, 1, None)]
        for label, m, c, autocast, threads, ctx in rows:
            torch.set_num_threads(threads)
            try:
                with (ctx or contextlib.nullcontext)():
                    t, *res = labels_of(m, tok, pairs, c, exemplars, autocast)
            except Exception as e:  # a variant that does not run here is a finding, not a crash
                print(f"  {label:42s} failed: {type(e).__name__}: {str(e)[:120]}")
                continue
            finally:
                torch.set_num_threads(1)
            a = agreement(ref, res)
            speed = (f"x{t0[0] / t[0]:5.2f} engine (wall), x{t_naive[0] / t[0]:5.2f} naive (wall)" if threads > 1 else
                     f"x{t0[1] / t[1]:5.2f} engine (CPU), x{t_naive[1] / t[1]:5.2f} naive (CPU)")
            print(f"  {label:42s} wall {t[0]:6.1f} s CPU {t[1]:6.1f} s  {speed};  agreement: pair {a['pair_label']:6.1%}, "
                  f"calls {a['calls']:6.1%}; max |dp_a| {a['max_dp']:.1e}", flush=True)


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

    from rlaif_lib.method import labeling as L

    model, tok, _ = L.load_labeler("smollm2-135m-instruct")
    pairs, train = make_pairs(args.n)
    exemplars = L.select_exemplars(train, 1, seed=0)
    configs = {"0shot": ("tiny preset (Detailed 0-shot, chat)", L.LabelConfig(batch_size=args.batch_size)),
               "1shot": ("Detailed 1-shot, chat", L.LabelConfig(preamble="detailed", shots=1, batch_size=args.batch_size))}
    configs = dict(configs[c] for c in args.configs)
    print(f"torch {torch.__version__}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; model "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, "
          f"{linear_flops_per_token(model) / 2e6:.1f}M in the linear layers a token goes through")
    peak = section_peak() if "peak" in args.sections else None
    if "breakdown" in args.sections:
        section_breakdown(model, tok, pairs, exemplars, configs, peak[1]["fp32"] if peak else None)
    if "variants" in args.sections:
        section_variants(model, tok, pairs, exemplars, configs, not args.no_precision)


if __name__ == "__main__":
    main()
