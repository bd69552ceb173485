"""The private (underscore or undocumented) APIs of transformers and TRL that the
kit relies on, each named here. If an upgrade moves one, its test fails with a message that says
what moved and which file of the kit uses it (constraints.txt pins the versions where they work)."""
import importlib
import inspect

import pytest
import transformers
import trl

VERSIONS = f"transformers {transformers.__version__}, trl {trl.__version__}"


def require(path: str, used_in: str):
    """The object at dotted `path` ("module:attr.attr"), or a clear failure naming it and its user."""
    module_name, _, attrs = path.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for attr in filter(None, attrs.split(".")):
            obj = getattr(obj, attr)
    except (ImportError, AttributeError) as e:
        pytest.fail(f"private API {path} moved ({VERSIONS}): {e}. rlaif-kit uses it in {used_in}; "
                    "adapt that code or install the versions in constraints.txt", pytrace=False)
    return obj


def test_trl_preference_collator_is_importable_from_its_private_module():
    collator = require("trl.trainer.reward_trainer:DataCollatorForPreference", "rlaif_lib/method/reward.py (SoftPreferenceCollator)")
    assert callable(getattr(collator, "torch_call", None)), "DataCollatorForPreference.torch_call is gone"
    assert "pad_token_id" in inspect.signature(collator).parameters, "DataCollatorForPreference(pad_token_id=...) is gone"


def test_reward_trainer_signature_columns_hook_and_metrics():
    hook = require("trl:RewardTrainer._set_signature_columns_if_needed", "rlaif_lib/method/reward.py (SoftLabelRewardTrainer)")
    assert "_signature_columns" in inspect.getsource(hook), "the hook no longer sets self._signature_columns"
    init = inspect.getsource(require("trl:RewardTrainer.__init__", "rlaif_lib/method/reward.py"))
    assert "self._metrics" in init, "RewardTrainer no longer keeps self._metrics (SoftLabelRewardTrainer.compute_loss logs to it)"


def test_rloo_trainer_logs_the_keys_training_curves_reads():
    source = inspect.getsource(require("trl:RLOOTrainer", "rlaif_lib/method/rl.py (training_curves)"))
    for key in ('"kl"', '"reward"', "completions/mean_length", "rewards/"):
        assert key in source, f"RLOOTrainer no longer logs {key} ({VERSIONS}); rlaif_lib/method/rl.py training_curves reads it"


def test_base_model_takes_a_kv_cache_and_the_cache_repeats_and_selects_rows(tiny_lm):
    """The labeler's shared-prefix cache: model.base_model(..., cache=/past_key_values=), and the
    Cache methods batch_repeat_interleave / batch_select_indices (rlaif_lib labeler, _last_logprobs)."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_lm).eval()
    params = inspect.signature(model.base_model.forward).parameters
    assert "cache" in params or "past_key_values" in params, f"base_model.forward takes no KV cache argument ({VERSIONS})"
    with torch.no_grad():
        out = model.base_model(input_ids=torch.tensor([[1, 2, 3]]), use_cache=True)
    cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
    assert cache is not None, f"base_model output has neither .cache nor .past_key_values ({VERSIONS})"
    for method in ("batch_repeat_interleave", "batch_select_indices"):
        assert callable(getattr(cache, method, None)), f"{type(cache).__name__}.{method} is gone ({VERSIONS})"
    kv = copy.deepcopy(cache)
    kv.batch_repeat_interleave(3)
    kv.batch_select_indices(torch.tensor([0, 2]))
    kw = "cache" if "cache" in params else "past_key_values"
    with torch.no_grad():
        more = model.base_model(input_ids=torch.tensor([[4], [5]]), attention_mask=torch.ones(2, 4, dtype=torch.long),
                                use_cache=True, **{kw: kv})
    assert more.last_hidden_state.shape[:2] == (2, 1)


def test_require_fails_clearly_when_an_api_moves(monkeypatch):
    import trl.trainer.reward_trainer as rt

    monkeypatch.delattr(rt, "DataCollatorForPreference")
    with pytest.raises(pytest.fail.Exception, match=r"private API trl.trainer.reward_trainer:DataCollatorForPreference moved"):
        test_trl_preference_collator_is_importable_from_its_private_module()


def test_trl_rloo_internals_the_one_step_recorder_listens_to():
    from trl import RLOOTrainer

    for name in ("_generate_and_score_completions", "_calculate_rewards"):
        require(f"trl:RLOOTrainer.{name}", "rlaif_lib/method/rl.py (one_trl_step, rollouts_of_one_prompt)")
    assert "inputs" in inspect.signature(RLOOTrainer._generate_and_score_completions).parameters


def test_trl_disable_dropout_is_importable_from_its_module():
    fn = require("trl.trainer.utils:disable_dropout_in_model", "rlaif_lib/method/reward_loop.py")
    assert list(inspect.signature(fn).parameters) == ["model"]
