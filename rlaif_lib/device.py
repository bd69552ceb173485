"""The kit's one device/dtype policy: where every model runs, in which dtype, and with which trainer flags.

    from rlaif_lib.device import get_policy
    policy = get_policy()            # CUDA when present, else CPU
    policy.dtype                      # inference dtype: bf16 on Ampere+, fp16 on a T4, fp32 on CPU
    SFTConfig(..., **policy.trainer_flags())   # bf16 / fp16 / use_cpu / activation checkpointing

Three kinds of device, decided once:

| kind        | when                                    | inference dtype | training                            |
| ----------- | --------------------------------------- | --------------- | ----------------------------------- |
| `cpu`       | no CUDA (or asked for)                  | fp32            | fp32, `use_cpu=True`                |
| `cuda-fp16` | CUDA without bf16 (T4, V100: sm < 8.0)  | fp16            | fp32 weights, fp16 autocast (AMP)   |
| `cuda-bf16` | CUDA with bf16 (A100, L4, H100: sm 8.0+)| bf16            | fp32 weights, bf16 autocast         |

Training keeps fp32 master weights under autocast: fp16 weights cannot be trained with AMP (the
grad scaler refuses fp16 gradients) and the kit's policies are small enough for fp32 optimizer
state on one GPU. On CUDA, activation checkpointing is on (TRL's default, ~1/3 more compute for
much less memory, which a 15 GB T4 needs); on CPU it is off (about 5x slower there: it recomputes every
layer's activations in the backward pass, which a CPU with room in RAM need not).

Which device: the `device` argument if given, else `$RLAIF_DEVICE`, else the run's preset
(`configure(preset.device)`, called by the pipeline), else auto. Values: "auto", "cpu", "cuda",
"cuda:N", or a kind ("cuda-fp16" forces fp16 on a bf16 GPU). Under `torchrun`/`accelerate launch`
each process takes the GPU of its LOCAL_RANK.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

DEVICE_ENV = "RLAIF_DEVICE"
KINDS = ("cpu", "cuda-fp16", "cuda-bf16")
_configured: str | None = None  # the run's preset.device, set by `configure`

# Suggested batch sizes (rows per forward pass) per task and device kind, for models up to ~2B
# parameters; `DevicePolicy.batch_size` halves them per doubling of the model above that.
# "label": pairs per labeling pass (each pair = 2 rows); "generate": prompts per generate() call;
# "score": texts per reward-model pass.
BATCH_SIZES = {
    "cpu": {"label": 8, "generate": 32, "score": 64},
    "cuda-fp16": {"label": 16, "generate": 64, "score": 64},  # a 15 GB T4
    "cuda-bf16": {"label": 32, "generate": 128, "score": 128},  # 24-80 GB and up
}


@dataclass(frozen=True)
class DevicePolicy:
    """Where models go and in which dtype. `device` is a torch device string ("cpu", "cuda:0")."""

    kind: str  # one of KINDS
    device: str
    gpu_name: str = ""
    memory_gb: float | None = None  # total memory of the GPU (None on CPU)
    capability: tuple | None = None  # CUDA compute capability, e.g. (7, 5) for a T4

    @property
    def is_cuda(self) -> bool:
        return self.kind != "cpu"

    @property
    def dtype(self) -> torch.dtype:
        """The dtype inference models (labeler, judge, reward scoring, sampling) are loaded in."""
        return {"cpu": torch.float32, "cuda-fp16": torch.float16, "cuda-bf16": torch.bfloat16}[self.kind]

    @property
    def train_dtype(self) -> torch.dtype:
        """The dtype trained weights are loaded in: fp32 master weights everywhere (see module notes)."""
        return torch.float32

    def trainer_flags(self, activation_checkpointing: bool | None = None) -> dict:
        """Keyword arguments every TRL config of the kit takes from the policy (SFT, Reward, RLOO).
        `activation_checkpointing` None = on for CUDA, off on CPU; a stage config may set it."""
        flags = {"use_cpu": not self.is_cuda, "bf16": self.kind == "cuda-bf16", "fp16": self.kind == "cuda-fp16",
                 "activation_checkpointing": self.is_cuda if activation_checkpointing is None else activation_checkpointing}
        if self.kind == "cuda-bf16":
            flags["tf32"] = True  # fp32 matmuls (rollouts from the fp32 master weights) on tensor cores
        return flags

    def model_init_kwargs(self) -> dict:
        """`model_init_kwargs` for TRL trainers that load the model from a path (SFT, RLOO, its reference);
        the dtype as a string, so the TRL config stays JSON-serialisable."""
        return {"dtype": str(self.train_dtype).replace("torch.", "")}

    def batch_size(self, task: str, n_params: float | None = None) -> int:
        """Suggested batch size for `task` ("label", "generate", "score") on this device; halved per
        doubling of the model past 2B parameters (never below 1)."""
        size = BATCH_SIZES[self.kind][task]
        if n_params and self.is_cuda:
            while n_params > 2e9 and size > 1:
                size, n_params = size // 2, n_params / 2
        return size

    def describe(self) -> str:
        """One line for logs and metrics.json, e.g. "cuda:0 (Tesla T4, 15.0 GB), fp16"."""
        where = f"{self.device} ({self.gpu_name}, {self.memory_gb:.1f} GB)" if self.is_cuda else "cpu"
        return f"{where}, {str(self.dtype).replace('torch.', '')}"


def configure(device: str | None) -> None:
    """Set the run's default device (the preset's `device` field); None or "auto" means detect.
    `$RLAIF_DEVICE` still wins over it."""
    global _configured
    _configured = None if device in (None, "auto") else device


def requested_device() -> str:
    """What was asked for, before detection: `$RLAIF_DEVICE`, else `configure`'s value, else "auto"."""
    return os.environ.get(DEVICE_ENV) or _configured or "auto"


def _cuda_policy(index: int, force_kind: str | None) -> DevicePolicy:
    capability = tuple(torch.cuda.get_device_capability(index))
    # torch reports bf16 as "supported" on a T4 through slow emulation: native bf16 needs sm 8.0+
    bf16 = capability >= (8, 0) and bool(torch.cuda.is_bf16_supported())
    kind = force_kind or ("cuda-bf16" if bf16 else "cuda-fp16")
    if kind == "cuda-bf16" and not bf16:
        raise ValueError(f"{DEVICE_ENV}/device asked for bf16, but GPU {index} (sm {capability[0]}.{capability[1]}) "
                         "has no bf16; use 'cuda' or 'cuda-fp16'")
    try:
        props = torch.cuda.get_device_properties(index)
        name, memory = props.name, props.total_memory / 2**30
    except (RuntimeError, AssertionError, AttributeError):  # mocked capability queries in tests
        name, memory = "cuda", None
    return DevicePolicy(kind=kind, device=f"cuda:{index}", gpu_name=name, memory_gb=memory, capability=capability)


def get_policy(device: str | None = None) -> DevicePolicy:
    """The device policy for `device` ("auto", "cpu", "cuda", "cuda:N", "cuda-fp16", "cuda-bf16";
    None = `requested_device()`). Auto picks CUDA when `torch.cuda.is_available()`, else CPU."""
    asked = (device or requested_device()).strip().lower()
    if asked == "cpu":
        return DevicePolicy(kind="cpu", device="cpu")
    if asked not in ("auto", "cuda", "cuda-fp16", "cuda-bf16") and not asked.startswith("cuda:"):
        raise ValueError(f"unknown device {asked!r}; choose auto, cpu, cuda, cuda:N, cuda-fp16 or cuda-bf16 "
                         f"(from the device argument, ${DEVICE_ENV} or the preset's `device`)")
    if not torch.cuda.is_available():
        if asked == "auto":
            return DevicePolicy(kind="cpu", device="cpu")
        raise ValueError(f"device {asked!r} was asked for but torch sees no CUDA GPU "
                         f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); use 'cpu' or 'auto'")
    index = int(asked.split(":")[1]) if asked.startswith("cuda:") else int(os.environ.get("LOCAL_RANK", 0))
    return _cuda_policy(index, asked if asked in KINDS else None)
