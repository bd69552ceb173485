"""The optional vLLM scorer, checked without vLLM: a stand-in engine with vLLM's request/response shape,
backed by a tiny transformers model, must give the labeler's reference soft labels exactly, including
rows whose "1"/"2" fall outside the top log-probabilities. (vLLM itself needs a GPU; not tested here.)"""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rlaif_lib.method import labeling as labeler
from rlaif_lib.method.labeling import scoring, vllm_scoring
from rlaif_lib.models import load_causal_lm


class StandInLLM:
    """`generate(prompts, params)` like vllm.LLM: prompts are {"prompt_token_ids": [...]}; returns
    outputs[0].logprobs[0] = top-k {id: Logprob} and prompt_logprobs = [None, {id: Logprob}, ...]."""

    def __init__(self, model, top):
        self.model, self.top, self.calls = model, top, []

    def generate(self, prompts, params):
        self.calls.append(params)
        out = []
        for p in prompts:
            ids = p["prompt_token_ids"]
            with torch.no_grad():
                lp = torch.log_softmax(self.model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
            k = lp.shape[-1] if self.top is None else min(params.logprobs or 1, self.top)
            values, indices = lp[-1].topk(k)
            top = {int(i): SimpleNamespace(logprob=float(v)) for v, i in zip(values, indices)}
            prompt_lp = None
            if params.prompt_logprobs is not None:
                prompt_lp = [None] + [{ids[i]: SimpleNamespace(logprob=float(lp[i - 1, ids[i]]))} for i in range(1, len(ids))]
            out.append(SimpleNamespace(outputs=[SimpleNamespace(logprobs=[top])], prompt_logprobs=prompt_lp))
        return out


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(vllm_scoring, "_sampling_params",
                        lambda **kw: SimpleNamespace(**{"logprobs": None, "prompt_logprobs": None, **kw}))


# top=None: every token is returned, one pass; top=1: "1"/"2" are (mostly) outside it and scored again
@pytest.mark.parametrize("top", [None, 1])
def test_vllm_soft_labels_match_the_reference_scorer(tiny_lm, stand_in, top):
    model, tokenizer = load_causal_lm(tiny_lm)
    pairs = [{"id": i, "post": f"post number {i} about my boyfriend", "summary_a": "he forgot", "summary_b": "dog ran"}
             for i in range(4)]
    config = labeler.LabelConfig(preamble="base", chat_template=False)
    prompts = [labeler.build_prompt(p, config, swap=s) for p in pairs for s in (False, True)]
    ids = scoring.answer_token_ids(tokenizer)
    llm = StandInLLM(model, top)
    probs, other = vllm_scoring.soft_labels(llm, tokenizer, prompts, ids)
    ref_probs, ref_other = labeler.soft_label(model, tokenizer, prompts)
    np.testing.assert_allclose(probs, ref_probs, atol=1e-5)
    np.testing.assert_allclose(other, ref_other, atol=1e-5)
    assert len(llm.calls) == (1 if top is None else 2)  # the exact second pass only when needed


def test_missing_vllm_is_a_clear_message(monkeypatch):
    monkeypatch.setattr(vllm_scoring, "vllm_available", lambda: False)
    with pytest.raises(ImportError, match="pip install vllm"):
        vllm_scoring.load_vllm("Qwen/Qwen2.5-1.5B-Instruct")


def test_empty_input():
    probs, other = vllm_scoring.soft_labels(None, None, [], (1, 2))
    assert probs.shape == (0, 2) and other.shape == (0,)
