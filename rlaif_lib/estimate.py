"""How long each stage of a preset takes on a GPU, and how much GPU memory it needs: ESTIMATES.

Every number here is DERIVED, NOT MEASURED: token counts from the preset's budgets and stated mean
lengths, FLOPs from the standard rules (forward 2N per token, training 6N, 8N with activation
checkpointing), decoding from the bytes of weights read per token, and a stated effective
throughput per device class (a share of the data-sheet peak, guessed for small models under
transformers/TRL). No GPU was available to the kit's developers when these were written; expect
them to be off by up to 2x either way, and replace them with the stage times a real run prints
(`done.json` holds each stage's measured seconds).

    estimate_preset(get_preset("colab"), "t4")   # {stage: {"seconds", "memory_gb", "detail"}}
    announce(preset, "sft")                        # one line before a stage starts
    markdown_table(["colab", "gpu"], ["t4", "a100", "h100"])
"""
from __future__ import annotations

import math
from dataclasses import dataclass


# ------------------------------------------------------------------------------- assumptions
@dataclass(frozen=True)
class DeviceClass:
    """Effective (not peak) throughput of one GPU for small models (0.1-8B) under transformers/TRL."""

    name: str
    memory_gb: float
    train_tflops: float  # mixed-precision training (fp16 on a T4, bf16 elsewhere), incl. kernel inefficiency
    forward_tflops: float  # 16-bit inference forward passes (labeler, judge, reward scoring)
    fp32_tflops: float  # fp32 weights without autocast (TRL's rollouts from the fp32 master weights; TF32 on Ampere+)
    bandwidth_gbs: float  # effective memory bandwidth (decoding reads every weight once per token)
    ms_per_layer_step: float  # host overhead per layer per decoding step (Python + kernel launches)
    download_mbs: float = 150.0  # hub download speed for the first load of a model
    disk_gbs: float = 1.0  # reload of a cached model


# Data-sheet peaks, and the share assumed here: T4 65 TFLOPS fp16 / 8.1 fp32 / 320 GB/s; L4 121 bf16
# / 60 TF32 / 300 GB/s; A100-80GB 312 bf16 / 156 TF32 / 2039 GB/s; H100-SXM 989 bf16 / 495 TF32 /
# 3350 GB/s. Shares: ~22% (train) and ~30% (forward) of the 16-bit peak, ~35-70% of the bandwidth.
DEVICE_CLASSES = {
    "t4": DeviceClass("NVIDIA T4 16 GB (Colab free tier)", 15.0, 14.0, 20.0, 5.5, 220.0, 0.5, 100.0, 0.5),
    "l4": DeviceClass("NVIDIA L4 24 GB (Colab)", 22.5, 28.0, 38.0, 20.0, 200.0, 0.35, 150.0, 1.0),
    "a100": DeviceClass("NVIDIA A100 80 GB", 80.0, 75.0, 100.0, 50.0, 1400.0, 0.3, 200.0, 2.0),
    "h100": DeviceClass("NVIDIA H100 80 GB (SXM)", 80.0, 190.0, 260.0, 140.0, 2300.0, 0.25, 200.0, 2.0),
}

# Mean lengths in tokens. Real TL;DR: ASSUMED (the hub is not reachable here): prompt with the
# SUBREDDIT/TITLE header ~300 tokens (OpenAI filtered posts to 24-512 tokens), summary ~30.
# Toy world: MEASURED on 200 ToyTLDR posts with SmolLM2's tokenizer (122.6 and 32.7).
LENGTHS = {"real": {"prompt": 300, "summary": 30}, "toy": {"prompt": 123, "summary": 33}}
PREAMBLE_TOKENS = {"base": 33, "detailed": 415}  # measured, SmolLM2 tokenizer (Qwen's is within a few %)
PAIR_TEMPLATE_TOKENS = 20 + 30  # "Text - / Summary 1 - / Summary 2 - / Preferred Summary=" + chat template
DRLAIF_EXTRA_TOKENS = 75 + 40  # d-RLAIF preamble + template and chat wrapping
PADDING = 1.25  # batches pad to their longest row
OPTIMIZER_BYTES_PER_PARAM = 28  # AdamW step: read fp32 weight, grad, m, v; write weight, m, v
CUDA_CONTEXT_GB = 0.6


# ------------------------------------------------------------------------------- cost model
def _spec(name: str) -> dict:
    from .models import model_spec

    if name == "tiny":
        from .policy import tiny_policy_path

        name = str(tiny_policy_path(progress=False))
    spec = model_spec(name)
    if spec is None:
        raise ValueError(f"no size known for model {name!r}: add it to models.MODEL_SPECS to estimate")
    return spec


def _forward_s(spec, tokens, dev, tflops=None) -> float:
    return 2 * spec["params"] * tokens / ((tflops or dev.forward_tflops) * 1e12)


def _train_s(spec, tokens, steps, dev, checkpointing=True) -> float:
    flops = (8 if checkpointing else 6) * spec["params"] * tokens
    optimizer = steps * OPTIMIZER_BYTES_PER_PARAM * spec["params"] / (dev.bandwidth_gbs * 1e9)
    return flops / (dev.train_tflops * 1e12) + optimizer


def _decode_s(spec, new_tokens, rows, batch, dev, bytes_per_param=2.0, tflops=None) -> float:
    """Autoregressive decoding of `new_tokens` for `rows` sequences in batches of `batch`: per step,
    the slower of reading the weights and the batch's FLOPs, plus the host overhead per layer."""
    if rows <= 0 or new_tokens <= 0:
        return 0.0
    per_step = max(spec["params"] * bytes_per_param / (dev.bandwidth_gbs * 1e9),
                   2 * spec["params"] * min(batch, rows) / ((tflops or dev.forward_tflops) * 1e12))
    return math.ceil(rows / batch) * new_tokens * (per_step + spec["layers"] * dev.ms_per_layer_step / 1e3)


def _load_s(spec, dev, first: bool = True) -> float:
    gb = 2 * spec["params"] / 1e9  # hub checkpoints are 16-bit
    return 5 + (gb * 1e3 / dev.download_mbs if first else gb / dev.disk_gbs)


def _train_memory_gb(spec, rows, seq, checkpointing=True, logits=True) -> float:
    """fp32 weights + grads + AdamW (16 B/param) + activations (16-bit) + fp32 logits (and their grad)."""
    per_layer = rows * seq * spec["hidden"] * (2 if checkpointing else 34)
    acts = per_layer * spec["layers"] + rows * seq * spec["hidden"] * 34  # + one layer recomputed in full
    logit = 8 * rows * seq * spec["vocab"] if logits else 0
    return (16 * spec["params"] + acts + logit) / 1e9


def _infer_memory_gb(spec, rows, seq, bytes_per_param=2, keep_logits=1) -> float:
    kv = 2 * spec["layers"] * rows * seq * spec["kv"] * 2  # keys and values, 16-bit
    return (bytes_per_param * spec["params"] + kv + 4 * rows * keep_logits * spec["vocab"]) / 1e9


# ------------------------------------------------------------------------------- stages
def _checkpointing(stage_config) -> bool:
    """The stage's activation checkpointing on a GPU (the device policy's default: on)."""
    return True if stage_config.activation_checkpointing is None else stage_config.activation_checkpointing


def estimate_preset(preset, device_class: str) -> dict:
    """ESTIMATED seconds and peak GPU memory (GB) per stage of `preset` on one GPU of `device_class`
    ("t4", "l4", "a100", "h100"): {stage: {"seconds", "memory_gb", "detail"}}, plus "total"."""
    from .device import BATCH_SIZES
    from .models import MINILM

    if device_class not in DEVICE_CLASSES:
        raise ValueError(f"unknown device class {device_class!r}; choose from {sorted(DEVICE_CLASSES)}")
    dev = DEVICE_CLASSES[device_class]
    sizes = BATCH_SIZES["cuda-fp16" if device_class == "t4" else "cuda-bf16"]  # the device policy's batch sizes
    gen, batch = sizes["generate"], sizes["label"]
    world = "toy" if preset.comparisons == "toy" else "real"
    prompt, summ = LENGTHS[world]["prompt"], LENGTHS[world]["summary"]
    pi, lab = _spec(preset.base_policy), _spec(preset.labeler)
    same = _spec(preset.same_size_labeler) if preset.same_size_labeler else None
    judge_name = preset.judge or preset.labeler
    out = {}

    # data: reading rows (hub download of the datasets: ~20 s)
    out["data"] = {"seconds": 20.0, "memory_gb": 0.0, "detail": "dataset download and parsing"}

    # SFT (Algorithm 1): every token of prompt + summary runs forward and backward
    seq = prompt + summ
    tokens = preset.n_sft * preset.sft.epochs * seq * PADDING
    steps = preset.n_sft * preset.sft.epochs / preset.sft.batch_size
    ckpt = _checkpointing(preset.sft)
    out["sft"] = {"seconds": _load_s(pi, dev) + _train_s(pi, tokens, steps, dev, ckpt),
                  "memory_gb": CUDA_CONTEXT_GB + _train_memory_gb(pi, preset.sft.batch_size, seq, ckpt),
                  "detail": f"{tokens / 1e6:.1f}M tokens x {8 if ckpt else 6}N FLOPs, {steps:.0f} optimizer steps"}

    # sample (toy world only: real data brings its own pairs)
    if world == "toy":
        rows = (preset.n_label_posts + preset.n_test_pairs) * preset.n_samples
        secs = _forward_s(pi, rows * prompt, dev) + _decode_s(pi, preset.max_new_tokens, rows, gen, dev)
        mem = CUDA_CONTEXT_GB + _infer_memory_gb(pi, gen, prompt + preset.max_new_tokens)
        out["sample"] = {"seconds": secs, "memory_gb": mem,
                         "detail": f"{rows} samples of {preset.max_new_tokens} tokens"}
    else:
        out["sample"] = {"seconds": 0.0, "memory_gb": 0.0, "detail": "skipped on real data"}

    # label (Sec. 2.1): per pair, the post once + both orders' summaries; preamble cached once
    per_pair = prompt + 2 * (2 * summ + PAIR_TEMPLATE_TOKENS)
    pairs = preset.n_label_posts + preset.n_test_pairs
    secs = _load_s(lab, dev) + _forward_s(lab, pairs * per_pair, dev)
    detail = [f"{pairs} pairs x {per_pair} tokens by the labeler"]
    if preset.label.cot:  # a rationale per pair and order, then the scoring pass above
        secs += _decode_s(lab, preset.label.cot_max_tokens, 2 * pairs, 2 * batch, dev)
        detail.append(f"CoT rationales of {preset.label.cot_max_tokens} tokens")
    if same is not None:
        secs += _load_s(same, dev) + _forward_s(same, preset.n_label_posts * per_pair, dev)
        secs += _load_s(lab, dev, first=False)  # one labeler at a time: the labeler comes back for the techniques
        detail.append(f"same-size labeler on {preset.n_label_posts} pairs")
    for preamble, shots, cot in preset.techniques:
        n = min(preset.n_technique_pairs, preset.n_test_pairs)
        secs += _forward_s(lab, n * (per_pair + shots * (prompt + 2 * summ)), dev)
        if cot:
            secs += _decode_s(lab, preset.technique_cot_tokens, 2 * n, 2 * batch, dev)
    if preset.techniques:
        detail.append(f"{len(preset.techniques)} technique settings on {preset.n_technique_pairs} pairs")
    secs += _load_s(_spec(MINILM), dev) + _forward_s(_spec(MINILM), preset.n_test_pairs * (prompt + 2 * summ), dev)
    ctx = PREAMBLE_TOKENS[preset.label.preamble] + per_pair
    out["label"] = {"seconds": secs, "memory_gb": CUDA_CONTEXT_GB + _infer_memory_gb(lab, 2 * batch, ctx),
                    "detail": "; ".join(detail)}

    # reward (Algorithm 2): RMs on AI labels (soft), human labels, hard AI labels (+ same-size AI labels)
    n_rms = 3 + (1 if preset.same_size_labeler else 0)
    seq = prompt + summ
    tokens = preset.n_label_posts * 2 * seq * preset.reward.epochs * PADDING
    steps = preset.n_label_posts * preset.reward.epochs / preset.reward.batch_size
    ckpt = _checkpointing(preset.reward)
    per_rm = _train_s(pi, tokens, steps, dev, ckpt) + _forward_s(pi, preset.n_test_pairs * 2 * seq, dev)
    mem = CUDA_CONTEXT_GB + _train_memory_gb(pi, 2 * preset.reward.batch_size, seq, ckpt, logits=False)
    out["reward"] = {"seconds": n_rms * per_rm + 5, "memory_gb": mem,
                     "detail": f"{n_rms} reward models x {tokens / 1e6:.1f}M tokens"}

    # RL (Algorithm 3): per step, rollouts (fp32 weights, no autocast), policy fwd+bwd, reference, reward
    rl = preset.rl
    c = rl.max_completion_length
    seq = prompt + c
    micro = rl.micro_batch_size or rl.batch_size
    ckpt = _checkpointing(rl)
    total, memory, parts = 0.0, 0.0, []
    for policy in preset.rl_policies:
        n_steps = preset.drlaif_steps if policy == "drlaif" else rl.max_steps
        b = rl.batch_size
        step = (_forward_s(pi, b * prompt, dev, dev.fp32_tflops)
                + _decode_s(pi, c, b, b, dev, bytes_per_param=4, tflops=dev.fp32_tflops)
                + _train_s(pi, b * seq * PADDING, 1, dev, ckpt)
                + _forward_s(pi, b * seq, dev))  # reference model
        mem = _train_memory_gb(pi, micro, seq, ckpt, logits=False) + 4 * pi["params"] / 1e9  # + fp32 reference
        if policy == "drlaif":
            step += _forward_s(lab, b * (prompt / rl.num_generations + c + DRLAIF_EXTRA_TOKENS), dev)
            mem += _infer_memory_gb(lab, 2 * batch, prompt + c + DRLAIF_EXTRA_TOKENS, keep_logits=2)
            load = _load_s(lab, dev, first=False)
        else:  # every reward model starts from the SFT policy: same size
            step += _forward_s(pi, b * seq, dev)
            mem += _infer_memory_gb(pi, sizes["score"], seq)
            load = 0.0
        secs = 2 * _load_s(pi, dev, first=False) + load + n_steps * step
        total += secs
        memory = max(memory, mem)
        parts.append(f"{policy}: {n_steps} steps x {step:.1f} s")
    out["rl"] = {"seconds": total, "memory_gb": CUDA_CONTEXT_GB + memory, "detail": "; ".join(parts)}

    # evaluate (Sec. 3.2): greedy summaries from SFT + each policy, then the judge in both orders
    n_pol = 1 + len(preset.rl_policies)
    secs = n_pol * (_load_s(pi, dev, first=False) + _forward_s(pi, preset.n_eval_posts * prompt, dev)
                    + _decode_s(pi, preset.max_new_tokens, preset.n_eval_posts, gen, dev))
    mem = _infer_memory_gb(pi, gen, prompt + preset.max_new_tokens)
    detail = f"{n_pol} policies x {preset.n_eval_posts} greedy summaries"
    if world == "real":
        judge = _spec(judge_name)
        n_cmp = len(preset.rl_policies) + (1 if {"rlaif", "rlhf"} <= set(preset.rl_policies) else 0)
        secs += _load_s(judge, dev) + _forward_s(judge, n_cmp * preset.n_eval_posts * (prompt + 2 * (
            2 * preset.max_new_tokens + PAIR_TEMPLATE_TOKENS)), dev)
        mem = max(mem, _infer_memory_gb(judge, 2 * batch, PREAMBLE_TOKENS[preset.label.preamble] + per_pair))
        detail += f"; judge {judge_name} on {n_cmp} comparisons, both orders"
    out["evaluate"] = {"seconds": secs, "memory_gb": CUDA_CONTEXT_GB + mem, "detail": detail}

    out["total"] = {"seconds": sum(v["seconds"] for v in out.values()),
                    "memory_gb": max(v["memory_gb"] for v in out.values()), "detail": "sum of the stages"}
    return out


# ------------------------------------------------------------------------------- printing
def device_class_of(policy) -> str | None:
    """The estimate's device class for a device policy (None on CPU): by GPU name, else by capability."""
    if not policy.is_cuda:
        return None
    name = (policy.gpu_name or "").upper()
    for key, cls in (("T4", "t4"), ("L4", "l4"), ("A100", "a100"), ("H100", "h100"), ("H200", "h100")):
        if key in name:
            return cls
    cap = policy.capability or (0, 0)
    return "t4" if cap < (8, 0) else "a100" if cap == (8, 0) else "l4" if cap < (9, 0) else "h100"


def announce(preset, stage: str) -> str | None:
    """Print (and return) the stage's estimated time and memory on this machine's GPU before it
    starts, marked as an estimate. Prints nothing on CPU or when a model's size is unknown."""
    from .device import get_policy

    cls = device_class_of(get_policy())
    if cls is None:
        return None
    try:
        est = estimate_preset(preset, cls)[stage]
    except (ValueError, KeyError):
        return None
    line = (f"[{stage}] ESTIMATE (derived from FLOPs, not measured) on one {DEVICE_CLASSES[cls].name}: "
            f"~{est['seconds'] / 60:.1f} min, ~{est['memory_gb']:.1f} GB GPU memory ({est['detail']})")
    print(line, flush=True)
    return line


def markdown_table(presets=("colab", "gpu"), device_classes=("t4", "a100", "h100")) -> str:
    """The estimates as a markdown table: minutes (and peak GB) per stage, per preset and device class."""
    from .presets import get_preset

    stages = ("data", "sft", "sample", "label", "reward", "rl", "evaluate", "total")
    head = "| preset | GPU | " + " | ".join(stages) + " |\n|" + " --- |" * (len(stages) + 2) + "\n"
    rows = []
    for name in presets:
        preset = get_preset(name)
        for cls in device_classes:
            est = estimate_preset(preset, cls)
            cells = [f"{est[s]['seconds'] / 60:.1f} min / {est[s]['memory_gb']:.1f} GB" if est[s]["seconds"] else "-"
                     for s in stages]
            fits = "" if est["total"]["memory_gb"] <= DEVICE_CLASSES[cls].memory_gb else " (does NOT fit)"
            rows.append(f"| {name} | {cls}{fits} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m rlaif_lib.estimate: print the table
    print(markdown_table(("colab", "gpu"), tuple(DEVICE_CLASSES)))
