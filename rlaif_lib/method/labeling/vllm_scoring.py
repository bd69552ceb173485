"""Optional vLLM backend for the labeler's "1"/"2" log-probabilities (Sec. 2.1), for large labeling runs.

The kit's own scorer (`labeling.scoring.score_rows`) runs transformers with a shared-prefix KV cache. Past
a few thousand pairs on a GPU, vLLM's batching and paged attention are faster; this module gives
the same numbers from vLLM: for every complete labeling prompt (text ending in "Preferred
Summary="), the log-probabilities of the answer tokens at the next position, then the same
softmax over "1" and "2" and the same `other_mass` as `labeling.scoring.two_way`.

How: one decoding step per prompt with the top-20 log-probabilities (vLLM returns the model's raw
log-probabilities, before any sampling processor). When "1" or "2" is not in a row's top 20 (a
weak labeler), that row is scored again with the answer token appended as part of the prompt,
whose exact log-probability vLLM returns as a prompt log-probability. So every number is exact,
never a floor.

vLLM is optional: `vllm_available()` says whether it is installed, and `load_vllm` raises an
ImportError that says how to install it. Nothing here is imported by the CPU path. With
`LabelConfig(use_vllm=True)` (no CoT) on a GPU, `label_pairs` takes the engine from `engine_for`
and calls `soft_labels(llm, tokenizer, prompts, answer_ids)` where it would call `score_rows` + `two_way`.
"""
from __future__ import annotations

import importlib.util

import numpy as np

TOP_LOGPROBS = 20  # vLLM's default cap (max_logprobs)


def vllm_available() -> bool:
    """True when the optional `vllm` package is importable."""
    return importlib.util.find_spec("vllm") is not None


def load_vllm(name: str, dtype: str | None = None, gpu_memory_utilization: float = 0.5, max_model_len: int = 4096):
    """A vLLM engine for labeler `name` (preset name, folder or hub id) in the device policy's dtype,
    with prefix caching on (every labeling prompt starts with the same preamble)."""
    if not vllm_available():
        raise ImportError("vLLM scoring needs the optional `vllm` package (a CUDA GPU and `pip install vllm`); "
                          "without it the labeler uses its transformers scorer, which gives the same labels")
    from vllm import LLM

    from ...device import get_policy
    from ...models import resolve

    policy = get_policy()
    if not policy.is_cuda:
        raise ValueError(f"vLLM scoring needs a CUDA GPU; the device policy says {policy.device}")
    dtype = dtype or str(policy.dtype).replace("torch.", "")
    return LLM(model=resolve(name), dtype=dtype, gpu_memory_utilization=gpu_memory_utilization,
               max_model_len=max_model_len, enable_prefix_caching=True)


_ENGINE: dict = {}  # the one vLLM labeler engine in memory: {"name": str, "llm": LLM}


def engine_for(name: str, **kwargs):
    """The vLLM engine of labeler `name`, kept for reuse; asking for another name drops this one first,
    and the transformers labeler held by `models.load_labeler` is freed before an engine is built."""
    from ...models import free_labeler, free_memory

    if _ENGINE.get("name") != name:
        _ENGINE.clear()
        free_labeler()
        free_memory()
        _ENGINE.update(name=name, llm=load_vllm(name, **kwargs))
    return _ENGINE["llm"]


def _sampling_params(**kwargs):
    from vllm import SamplingParams

    return SamplingParams(**kwargs)


def _logprob(entry) -> float:
    """vLLM's Logprob object (or a bare float) -> float."""
    return float(getattr(entry, "logprob", entry))


def answer_logprobs(llm, token_ids: list[list[int]], answer_ids) -> np.ndarray:
    """[n, len(answer_ids)] log P(answer | prompt) at the position after each prompt (given as token ids)."""
    answer_ids = [int(a) for a in answer_ids]
    out = np.full((len(token_ids), len(answer_ids)), np.nan)
    if not token_ids:
        return out
    first = llm.generate([{"prompt_token_ids": list(ids)} for ids in token_ids],
                         _sampling_params(max_tokens=1, temperature=0.0, logprobs=TOP_LOGPROBS))
    for i, request in enumerate(first):
        top = request.outputs[0].logprobs[0]  # {token_id: Logprob} at the first generated position
        for j, a in enumerate(answer_ids):
            if a in top:
                out[i, j] = _logprob(top[a])
    missing = [(i, j) for i in range(len(token_ids)) for j in range(len(answer_ids)) if np.isnan(out[i, j])]
    if missing:  # exact values for answers outside the top 20: score them as the prompt's last token
        again = llm.generate([{"prompt_token_ids": list(token_ids[i]) + [answer_ids[j]]} for i, j in missing],
                             _sampling_params(max_tokens=1, temperature=0.0, prompt_logprobs=0))
        for (i, j), request in zip(missing, again):
            out[i, j] = _logprob(request.prompt_logprobs[-1][answer_ids[j]])
    return out


def soft_labels(llm, tokenizer, prompts: list[str], answer_ids) -> tuple[np.ndarray, np.ndarray]:
    """(probs [n, 2] = softmax over log P("1"), log P("2"); other_mass [n] = 1 - P("1") - P("2")) for
    complete labeling prompts, tokenized exactly as the transformers scorer does (`labeling.scoring.encode`)."""
    from .scoring import encode

    lp = answer_logprobs(llm, [encode(tokenizer, p) for p in prompts], answer_ids)
    if not len(lp):
        return np.zeros((0, 2)), np.zeros(0)
    shifted = np.exp(lp - lp.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), np.clip(1 - np.exp(lp).sum(axis=1), 0, None)
