"""The machine's speed: GFLOP/s of a matrix product and GB/s of a memory copy.

The kit's timings are taken on shared machines whose speed moves between hours, so every timing
(`make demo`'s record, the labeling benchmark) is reported beside this probe, taken in the same run.
"""
from __future__ import annotations

import time

import torch


def rate(step, work: float, seconds: float = 1.0) -> tuple[float, float]:
    """(work / 1e9 per wall second, per CPU second) of `step` repeated for about `seconds`, after one
    warm-up call. Per CPU second is what the cores do while they run, whatever else loads them."""
    step()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    return work * count / (time.perf_counter() - start) / 1e9, work * count / max(time.process_time() - cpu, 1e-9) / 1e9


def gemm_rate(m: int, k: int, n: int, seconds: float = 1.0) -> tuple[float, float]:
    """GFLOP per wall second and per CPU second of an fp32 (m x k) @ (k x n) product, at torch's current
    thread count."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    with torch.no_grad():
        return rate(lambda: a @ b, 2 * m * k * n, seconds)


def best_gemm_rate(m: int, k: int, n: int, tries: int = 3, seconds: float = 1.0) -> tuple[float, float]:
    """The best of `tries` `gemm_rate` measurements, each `seconds / tries` long (per wall, per CPU second)."""
    rates = [gemm_rate(m, k, n, seconds / tries) for _ in range(tries)]
    return max(r[0] for r in rates), max(r[1] for r in rates)


def machine_probe() -> dict:
    """This machine's speed now: fp32 matmul GFLOP/s (1024 x 1024 x 1024, torch's current threads) and
    memory copy GB/s (256 MB, read + write), one second each."""
    x = torch.empty(64 * 2**20)
    y = torch.empty_like(x)
    return {"matmul_gflops": round(gemm_rate(1024, 1024, 1024)[0], 1), "threads": torch.get_num_threads(),
            "memory_copy_gbs": round(rate(lambda: y.copy_(x), 2 * 4 * x.numel())[0], 1)}
