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


def gemm_rate(m: int, k: int, n: int, dtype: str = "fp32", seconds: float = 1.0) -> tuple[float, float]:
    """GFLOP per wall second and per CPU second of an (m x k) @ (k x n) product in fp32, bf16 or int8
    (int8: `torch._int_mm`, raw int8 x int8 -> int32; "int8-dyn": a dynamically quantized nn.Linear,
    activation quantization included, oneDNN engine), at torch's current thread count."""
    if dtype in ("fp32", "bf16"):
        dt = torch.float32 if dtype == "fp32" else torch.bfloat16
        a, b = torch.randn(m, k, dtype=dt), torch.randn(k, n, dtype=dt)
        step = lambda: a @ b  # noqa: E731
    elif dtype == "int8":
        a, b = torch.randint(-64, 64, (m, k), dtype=torch.int8), torch.randint(-64, 64, (k, n), dtype=torch.int8)
        step = lambda: torch._int_mm(a, b)  # noqa: E731
    elif dtype == "int8-dyn":
        torch.backends.quantized.engine = "onednn"
        lin = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(k, n, bias=False)),
                                                     {torch.nn.Linear}, dtype=torch.qint8)
        a = torch.randn(m, k)
        step = lambda: lin(a)  # noqa: E731
    else:
        raise ValueError(f"unknown dtype {dtype!r}; choose fp32, bf16, int8 or int8-dyn")
    with torch.no_grad():
        return rate(step, 2 * m * k * n, seconds)


def best_gemm_rate(m: int, k: int, n: int, dtype: str = "fp32", tries: int = 3, seconds: float = 1.0) -> tuple[float, float]:
    """The best of `tries` `gemm_rate` measurements, each `seconds / tries` long (per wall, per CPU second)."""
    rates = [gemm_rate(m, k, n, dtype, seconds / tries) for _ in range(tries)]
    return max(r[0] for r in rates), max(r[1] for r in rates)


def machine_probe() -> dict:
    """This machine's speed now: fp32 matmul GFLOP/s (1024 x 1024 x 1024, torch's current threads) and
    memory copy GB/s (256 MB, read + write), one second each."""
    x = torch.empty(64 * 2**20)
    y = torch.empty_like(x)
    return {"matmul_gflops": round(gemm_rate(1024, 1024, 1024)[0], 1), "threads": torch.get_num_threads(),
            "memory_copy_gbs": round(rate(lambda: y.copy_(x), 2 * 4 * x.numel())[0], 1)}
