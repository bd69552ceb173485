"""The device/dtype policy, tested without a GPU: torch's CUDA capability queries are mocked (never the
models), and each loader and trainer is checked for the device, dtype and flags the policy gives it."""
import re
from pathlib import Path

import pytest
import torch

from rlaif_lib import device, models

# name -> (compute capability, torch's is_bf16_supported(), GPU name, GB)
GPUS = {"cuda-bf16": ((8, 0), True, "NVIDIA A100-SXM4-80GB", 80), "cuda-fp16": ((7, 5), True, "Tesla T4", 15)}


class _Props:
    def __init__(self, name, gb):
        self.name, self.total_memory = name, gb * 2**30


@pytest.fixture
def fake_gpu(monkeypatch):
    """fake_gpu("cuda-fp16" | "cuda-bf16" | "cpu"): mock torch.cuda's capability queries."""
    monkeypatch.delenv(device.DEVICE_ENV, raising=False)
    device.configure(None)

    def use(kind):
        if kind == "cpu":
            monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
            return
        cap, bf16, name, gb = GPUS[kind]
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=0: cap)
        # a T4 reports bf16 as "supported" (emulated): the policy must not take it
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i=0: _Props(name, gb))

    yield use
    device.configure(None)


@pytest.mark.parametrize("kind, dtype, flags", [
    ("cpu", torch.float32, {"use_cpu": True, "bf16": False, "fp16": False, "activation_checkpointing": False}),
    ("cuda-fp16", torch.float16, {"use_cpu": False, "bf16": False, "fp16": True, "activation_checkpointing": True}),
    ("cuda-bf16", torch.bfloat16, {"use_cpu": False, "bf16": True, "fp16": False, "activation_checkpointing": True,
                                   "tf32": True}),
])
def test_policy_per_device(fake_gpu, kind, dtype, flags):
    fake_gpu(kind)
    policy = device.get_policy()
    assert policy.kind == kind and policy.dtype == dtype and policy.train_dtype == torch.float32
    assert policy.device == ("cpu" if kind == "cpu" else "cuda:0")
    assert policy.trainer_flags() == flags
    assert policy.trainer_flags(activation_checkpointing=False)["activation_checkpointing"] is False
    assert policy.model_init_kwargs() == {"dtype": "float32"}  # fp32 master weights under autocast
    assert (policy.memory_gb is None) == (kind == "cpu")


def test_batch_sizes_grow_with_the_device_and_shrink_with_the_model(fake_gpu):
    sizes = {}
    for kind in ("cpu", "cuda-fp16", "cuda-bf16"):
        fake_gpu(kind)
        sizes[kind] = device.get_policy().batch_size("label")
    assert sizes["cpu"] < sizes["cuda-fp16"] < sizes["cuda-bf16"]
    assert device.get_policy().batch_size("label", n_params=7.6e9) == sizes["cuda-bf16"] // 4


def test_what_overrides_what(fake_gpu, monkeypatch):
    fake_gpu("cuda-bf16")
    assert device.get_policy().kind == "cuda-bf16"  # auto
    device.configure("cpu")  # the preset's field
    assert device.get_policy().kind == "cpu"
    monkeypatch.setenv(device.DEVICE_ENV, "cuda-fp16")  # the environment wins over the preset
    assert device.get_policy().kind == "cuda-fp16"
    assert device.get_policy("cpu").kind == "cpu"  # an explicit argument wins over both
    monkeypatch.setenv("LOCAL_RANK", "1")  # under torchrun each process takes its own GPU
    assert device.get_policy("cuda").device == "cuda:1"


def test_bad_requests_are_clear_errors(fake_gpu):
    fake_gpu("cpu")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        device.get_policy("cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        device.get_policy("tpu")
    fake_gpu("cuda-fp16")
    with pytest.raises(ValueError, match="has no bf16"):
        device.get_policy("cuda-bf16")


def test_loaders_place_models_by_the_policy(fake_gpu):
    """What each loader hands to from_pretrained: the device map and dtype of the policy."""
    fake_gpu("cuda-fp16")
    policy = device.get_policy()
    assert models._placement(policy, policy.dtype, None) == {"dtype": torch.float16, "device_map": {"": "cuda:0"}}
    if not models.bitsandbytes_available():
        with pytest.raises(ValueError, match="bitsandbytes"):
            models._placement(policy, policy.dtype, "4bit")
    fake_gpu("cpu")
    policy = device.get_policy()
    assert models._placement(policy, policy.dtype, None) == {"dtype": torch.float32}


def test_loaders_on_cpu_give_fp32_models_in_eval_mode(tiny_lm, fake_gpu):
    fake_gpu("cpu")
    model, tokenizer = models.load_causal_lm(tiny_lm)
    assert model.device.type == "cpu" and model.dtype == torch.float32 and not model.training
    assert tokenizer.pad_token is not None
    model, _ = models.load_sequence_classifier(tiny_lm, train=True)
    assert model.dtype == torch.float32 and model.config.pad_token_id is not None
    encoder, _ = models.load_encoder()
    assert encoder.device.type == "cpu" and encoder.config.hidden_size == 384


def test_every_trainer_takes_its_flags_from_the_policy(fake_gpu, tiny_lm, tmp_path, monkeypatch):
    """SFT, reward and RLOO configs are built with the policy's flags, for each kind of device. The
    TRL config classes are replaced by recorders: a real fp16 config refuses to exist without a GPU."""
    import trl

    from rlaif_lib.method import reward, rl, sft

    seen = {}

    def recorder(name):
        def make(**kwargs):
            seen[name] = kwargs
            raise StopIteration  # stop before any model is loaded or trained
        return make

    monkeypatch.setattr(trl, "SFTConfig", recorder("sft"))
    monkeypatch.setattr(trl, "RLOOConfig", recorder("rl"))
    monkeypatch.setattr(reward, "RewardConfig", recorder("reward"))
    for kind in ("cpu", "cuda-fp16", "cuda-bf16"):
        fake_gpu(kind)
        flags = device.get_policy().trainer_flags()
        for name, call in (("sft", lambda: sft.train_sft(tiny_lm, [], tmp_path)),
                           ("reward", lambda: reward.train_reward_model(tiny_lm, [], [], tmp_path)),
                           ("rl", lambda: rl.train_rl(tiny_lm, None, [], tmp_path))):
            with pytest.raises(StopIteration):
                call()
            assert {k: seen[name][k] for k in flags} == flags, (kind, name)
            if name != "reward":  # TRL loads these from a path: fp32 master weights
                assert seen[name]["model_init_kwargs"] == {"dtype": "float32"}
        fake_gpu("cpu")


def test_rl_microbatches_and_vllm_fallback(fake_gpu, capsys):
    from rlaif_lib.method.rl import RLStageConfig, micro_batches, vllm_kwargs

    assert micro_batches(RLStageConfig(batch_size=32, micro_batch_size=8)) == (8, 4)
    assert micro_batches(RLStageConfig(batch_size=32)) == (32, 1)
    with pytest.raises(ValueError, match="micro_batch_size=6"):
        micro_batches(RLStageConfig(batch_size=32, micro_batch_size=6))
    fake_gpu("cpu")
    assert vllm_kwargs(RLStageConfig(), device.get_policy()) == {}
    assert vllm_kwargs(RLStageConfig(use_vllm=True), device.get_policy()) == {}
    assert capsys.readouterr().out.count("rollouts use transformers' generate instead") == 1


def test_labeler_ladder_keeps_only_models_that_fit(fake_gpu):
    fake_gpu("cuda-fp16")  # a 15 GB T4
    keep, dropped = models.ladder_for_device(["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-3B-Instruct",
                                              "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct"])
    assert keep[:2] == ["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-3B-Instruct"]
    seven = "Qwen/Qwen2.5-7B-Instruct"
    if models.bitsandbytes_available():
        assert seven in keep and models.load_plan(seven)[0] == "4bit"
    else:  # fits only in 4-bit, which needs bitsandbytes
        assert dict(dropped)[seven].endswith("pip install bitsandbytes")
        assert set(dict(dropped)) == {seven, "Qwen/Qwen2.5-14B-Instruct"}
    fake_gpu("cuda-bf16")  # 80 GB: all of them
    assert models.ladder_for_device(["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct"])[1] == []


def test_one_labeler_in_memory_at_a_time(tiny_lm, tmp_path, fake_gpu):
    import gc
    import shutil
    import weakref

    fake_gpu("cpu")
    other = tmp_path / "other"
    shutil.copytree(tiny_lm, other)
    first = weakref.ref(models.load_labeler(tiny_lm)[0])
    assert models.load_labeler(tiny_lm)[0] is first()  # reused while it is the one asked for
    second = weakref.ref(models.load_labeler(str(other))[0])
    gc.collect()
    assert first() is None and second() is not None  # the first one is gone
    assert models.load_labeler(str(other))[0] is second()
    models.free_labeler()
    gc.collect()
    assert second() is None


# ------------------------------------------------------------------------------------ load sites
ROOT = Path(__file__).resolve().parents[1] / "rlaif_lib"
LOADERS = {"models.py", "device.py"}


def _load_sites():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "from_pretrained(" in line and not line.lstrip().startswith("#"):
                yield rel, n, line.strip()


def test_models_load_only_through_the_loaders():
    """Every `from_pretrained(` in rlaif_lib is inside models.py/device.py (TRL's trainers load what
    they train themselves, with `model_init_kwargs` from the policy)."""
    stray = [s for s in _load_sites() if s[0] not in LOADERS]
    assert stray == []
    assert any(rel.startswith("method/labeling/") for rel in (p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py")))


def test_no_precision_or_device_flag_is_hard_coded():
    """bf16/fp16/use_cpu come from the policy. The one exception: the tiny policy's pretraining recipe,
    which rebuilds the shipped checkpoint on CPU by design (so it is bit-reproducible)."""
    flag = re.compile(r"\b(bf16|fp16|use_cpu)\s*=\s*(True|False)\b")
    hits = [(p.relative_to(ROOT).as_posix(), m.group(0)) for p in ROOT.rglob("*.py") if p.name != "device.py"
            for m in flag.finditer(p.read_text())]
    assert hits == [("policy.py", "use_cpu=True")]


# ------------------------------------------------------------------------------ inputs follow models
class _Stop(Exception):
    pass


def _input_devices(model, call):
    """Run `call` with `model.device` reporting "meta": code that moves its inputs to the model's
    device hands "meta" tensors to the model, code that builds CPU tensors hands "cpu" ones."""
    seen = []

    def hook(module, args, kwargs):
        seen.extend(v.device.type for v in [*args, *kwargs.values()] if torch.is_tensor(v))
        raise _Stop

    handle = model.base_model.register_forward_pre_hook(hook, with_kwargs=True)  # before any check on the inputs
    cls = type(model)
    original = cls.__dict__.get("device")
    cls.device = property(lambda self: torch.device("meta"))
    try:
        call()
    except _Stop:
        pass
    finally:
        handle.remove()
        if original is None:
            del cls.device
        else:
            cls.device = original
    return seen


def test_scoring_and_sampling_move_inputs_to_the_model(tiny_lm, fake_gpu, monkeypatch):
    from rlaif_lib.method import reward, sft

    fake_gpu("cpu")
    model, tokenizer = models.load_sequence_classifier(tiny_lm)
    assert _input_devices(model, lambda: reward.score((model, tokenizer), ["post"], [" summary"])) == ["meta"] * 2
    lm, tok = models.load_causal_lm(tiny_lm)
    seen = {}

    def fake_generate(**kwargs):  # sampling: the inputs generate() receives
        seen.update({k: v.device.type for k, v in kwargs.items() if torch.is_tensor(v)})
        raise _Stop

    monkeypatch.setattr(lm, "generate", fake_generate)
    monkeypatch.setattr(type(lm), "device", property(lambda self: torch.device("meta")))
    with pytest.raises(_Stop):
        sft.generate((lm, tok), ["a post"], max_new_tokens=2)
    assert seen == {"input_ids": "meta", "attention_mask": "meta"}


def test_labeler_moves_inputs_to_the_model(tiny_lm, fake_gpu):
    from rlaif_lib.method import labeling

    fake_gpu("cpu")
    model, tokenizer = models.load_causal_lm(tiny_lm)
    pair = {"id": "p", "post": "a post about work", "summary_a": "work", "summary_b": "dog"}
    config = labeling.LabelConfig(preamble="base", chat_template=False)
    devices = _input_devices(model, lambda: labeling.label_pairs([pair], (model, tokenizer), config, progress=False))
    assert devices and set(devices) == {"meta"}



def test_every_labeling_forward_gets_inputs_on_the_model_device(tiny_lm, fake_gpu, monkeypatch):
    """The other labeling entry points: the reference scorer, rows without a shared prefix (the
    post-block and the tail-block passes), the KV-cache row selection, d-RLAIF, CoT decoding, MiniLM."""
    from rlaif_lib.method.labeling import baselines, label, scoring

    fake_gpu("cpu")
    model, tokenizer = models.load_causal_lm(tiny_lm)
    ids = tokenizer("a post about work", add_special_tokens=False)["input_ids"]
    calls = {
        "soft_label": lambda: scoring.soft_label(model, tokenizer, ["a post about work"]),
        "post block": lambda: scoring.last_logprobs(model, [], None, [ids], [[ids[:1], ids[1:2]]]),
        "tail block": lambda: scoring.last_logprobs(model, [], None, [[]], [[ids]]),
    }
    for name, call in calls.items():
        assert set(_input_devices(model, call) or ["none"]) == {"meta"}, name

    # With a shared prefix: its KV cache is computed once (here on the CPU, before the device
    # reports "meta"); the tree-masked forward after it and the CoT decoder must still hand the model
    # tensors on its device.
    prefix, fulls = "A post: ", ["A post: about work", "A post: about the dog"]
    store = {}
    scoring.score_rows(model, tokenizer, prefix, fulls, store=store)
    assert store, "the prefix's KV cache was not stored"
    assert set(_input_devices(model, lambda: scoring.score_rows(model, tokenizer, prefix, fulls, store=store,
                                                                groups=[[0, 1]]))) == {"meta"}
    assert set(_input_devices(model, lambda: scoring.sample_continuations(
        model, tokenizer, prefix, fulls, [[0, 1]], n=2, max_new_tokens=2, temperature=1.0, store=store))) == {"meta"}
    assert set(_input_devices(model, lambda: label._rationales(
        model, tokenizer, prefix, fulls, [[0, 1]], label.LabelConfig(cot=True), seed=0, store=store))) == {"meta"}

    fake_gpu("cpu")
    encoder, _ = models.load_encoder()
    monkeypatch.setattr(models, "load_encoder", lambda *a, **k: (encoder, _))
    pair = {"id": "p", "post": "a post about work", "summary_a": "work", "summary_b": "dog"}
    assert set(_input_devices(encoder, lambda: baselines.embedding_labeler([pair]))) == {"meta"}


def test_label_batch_size_comes_from_the_policy_only_when_unset(tiny_lm, fake_gpu):
    from rlaif_lib.method.labeling import LabelConfig
    from rlaif_lib.method.labeling.scoring import label_batch_size

    fake_gpu("cpu")
    model, _ = models.load_causal_lm(tiny_lm)
    assert LabelConfig().batch_size == 8 == label_batch_size(LabelConfig(batch_size=None), model)  # CPU: unchanged
    fake_gpu("cuda-bf16")
    assert label_batch_size(LabelConfig(batch_size=None), model) == device.BATCH_SIZES["cuda-bf16"]["label"]
    assert label_batch_size(LabelConfig(batch_size=3), model) == 3
    assert LabelConfig(batch_size=None, use_vllm=True).key_fields() == LabelConfig().key_fields()  # same cache keys


def test_labeling_vllm_request_falls_back_with_one_line(tiny_lm, fake_gpu, capsys):
    from rlaif_lib.method.labeling import LabelConfig, label_pairs

    fake_gpu("cpu")
    pair = {"id": "p", "post": "a post about work", "summary_a": "work", "summary_b": "dog"}
    plain = label_pairs([pair], tiny_lm, LabelConfig(preamble="base", chat_template=False), progress=False)
    asked = label_pairs([pair], tiny_lm, LabelConfig(preamble="base", chat_template=False, use_vllm=True),
                        progress=False)
    assert asked == plain
    assert capsys.readouterr().out.count("scoring with transformers instead") == 1
    models.free_labeler()


def test_labeling_uses_the_one_labeler_loader(tiny_lm, fake_gpu):
    from rlaif_lib.method.labeling.scoring import load_labeler

    fake_gpu("cpu")
    model, _, name = load_labeler(tiny_lm)
    assert name == tiny_lm and models.load_labeler(tiny_lm)[0] is model  # the one labeler loader holds it
    models.free_labeler()


def test_labeler_size_table_leaves_out_what_does_not_fit(tiny_lm, fake_gpu, monkeypatch, capsys):
    from rlaif_lib.method.labeling import LabelConfig, tables

    fake_gpu("cpu")
    asked = []

    def ladder(names, policy=None):
        asked.extend(names)
        return [n for n in names if n != "Qwen/Qwen2.5-7B-Instruct"], [("Qwen/Qwen2.5-7B-Instruct", "needs 17 GB")]

    monkeypatch.setattr(models, "ladder_for_device", ladder)
    pairs = [{"id": i, "post": f"post {i} about work", "summary_a": "work", "summary_b": "dog", "choice": i % 2}
             for i in range(4)]
    rows = tables.labeler_size_table(pairs, {"tiny": tiny_lm, "7B": "Qwen/Qwen2.5-7B-Instruct"},
                                     LabelConfig(preamble="base", chat_template=False))
    assert asked == [tiny_lm, "Qwen/Qwen2.5-7B-Instruct"]
    assert [r["labeler"] for r in rows][:2] == ["tiny", "random (baseline)"] and len(rows) == 4
    assert "Table 3: Qwen/Qwen2.5-7B-Instruct left out: needs 17 GB" in capsys.readouterr().out
    models.free_labeler()
