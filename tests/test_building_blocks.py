"""The building blocks the notebooks open up: each trainer built without training, and the numbers the
notebooks recompute by hand (SFT loss, soft-label loss, RLOO advantages with the KL penalty)."""
import math
import random

import pytest
import torch

from .conftest import random_text


def rows(n, seed=0):
    rng = random.Random(seed)
    return [{"prompt": "SUBREDDIT: r/x\n\nTITLE: " + random_text(rng, 3) + "\n\nPOST: " + random_text(rng, 15) + "\n\nTL;DR:",
             "completion": " " + random_text(rng, 6)} for _ in range(n)]


def test_sft_trainer_loss_counts_the_summary_tokens_only(tiny_lm, tmp_path):
    from datasets import Dataset

    from rlaif_lib.method.sft import SFTStageConfig, sft_trainer

    data = rows(4)
    trainer = sft_trainer(tiny_lm, Dataset.from_list(data), tmp_path, SFTStageConfig(), progress=False)
    model, tok = trainer.model.eval(), trainer.processing_class
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    with torch.no_grad():
        loss = trainer.compute_loss(model, batch).item()
    total, count = 0.0, 0
    for r in data:
        n_prompt = len(tok(r["prompt"])["input_ids"])
        ids = tok(r["prompt"] + r["completion"])["input_ids"] + [tok.eos_token_id]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1], -1)
        token_logp = logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])][n_prompt - 1:]
        total, count = total - token_logp.sum().item(), count + len(token_logp)
    assert loss == pytest.approx(total / count, abs=1e-5)


def test_reward_trainer_loss_is_the_soft_label_formula(tiny_lm, tmp_path):
    from rlaif_lib.method.reward import RewardStageConfig, reward_text, reward_trainer

    pairs = [{"id": str(i), "prompt": r["prompt"], "summary_a": r["completion"], "summary_b": " " + random_text(random.Random(i), 5)}
             for i, r in enumerate(rows(4, seed=1))]
    p_a = [0.9, 0.2, 0.5, 0.7]
    trainer = reward_trainer(tiny_lm, pairs, p_a, tmp_path, RewardStageConfig(), progress=False)
    model, tok = trainer.model.eval(), trainer.processing_class
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    with torch.no_grad():
        loss = trainer.compute_loss(model, dict(batch)).item()
        r = lambda p, s: model(**tok(reward_text(p["prompt"], s, tok), return_tensors="pt")).logits[0, 0].item()  # noqa: E731
        sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
        hand = [-(p * math.log(sig(r(x, x["summary_a"]) - r(x, x["summary_b"])))
                  + (1 - p) * math.log(sig(r(x, x["summary_b"]) - r(x, x["summary_a"])))) for x, p in zip(pairs, p_a)]
    assert loss == pytest.approx(sum(hand) / 4, abs=1e-5)


@pytest.fixture(scope="module")
def moved_policy(tiny_lm, tmp_path_factory):
    """A copy of tiny_lm with perturbed weights: a 'trained' policy whose KL to tiny_lm is not zero."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_lm)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("moved")
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_lm).save_pretrained(path)
    return str(path)


def test_rloo_advantages_by_hand_match_trl(tiny_lm, moved_policy, tmp_path):
    """Names TRL's private RLOOTrainer._generate_and_score_completions (via rollouts_of_one_prompt): if TRL
    moves it, this fails here first."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM

    from rlaif_lib.method.rl import RLStageConfig, rl_trainer, rollouts_of_one_prompt

    def reward(prompts, completions, **kw):
        return [float(len(c.split())) / 10 for c in completions]

    config = RLStageConfig(num_generations=4, batch_size=4, max_completion_length=12, beta=0.1)
    prompts = [{"id": str(i), "prompt": r["prompt"]} for i, r in enumerate(rows(4, seed=2))]
    trainer = rl_trainer(moved_policy, reward, Dataset.from_list(prompts), tmp_path, config, progress=False,
                         reference=tiny_lm)
    ref = AutoModelForCausalLM.from_pretrained(tiny_lm).eval()
    pi = AutoModelForCausalLM.from_pretrained(moved_policy).eval()
    ref_params = dict(trainer.ref_model.named_parameters())
    name, p = next(iter(ref.named_parameters()))
    assert torch.equal(ref_params[name].detach(), p.detach())  # TRL's reference is the one we named
    torch.manual_seed(0)
    roll = rollouts_of_one_prompt(trainer, prompts[0])
    ids = torch.cat([roll["prompt_ids"], roll["completion_ids"]], 1)
    att = torch.cat([roll["prompt_mask"], roll["completion_mask"]], 1)
    n = roll["prompt_ids"].shape[1]

    def logps(model):
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=att).logits[:, n - 1:-1] / config.temperature
        return torch.log_softmax(logits, -1).gather(2, roll["completion_ids"].unsqueeze(-1)).squeeze(-1)

    kl = ((logps(pi) - logps(ref)) * roll["completion_mask"]).sum(1)
    assert kl.abs().max() > 1e-3  # the policy really differs from its reference
    R = torch.tensor(reward([prompts[0]["prompt"]] * 4, roll["completions"])) - config.beta * kl
    advantages = R - (R.sum() - R) / 3
    assert torch.allclose(advantages, roll["advantages"], atol=1e-4)
    assert roll["advantages"].sum().abs() < 1e-4  # leave-one-out advantages of one prompt sum to zero


def test_drlaif_prompt_is_appendix_d_raw_without_a_tokenizer():
    from rlaif_lib.method.labeling import DRLAIF_ENDING, DRLAIF_PREAMBLE, drlaif_prompt

    post = {"post": "I forgot my keys.", "title": "Keys", "subreddit": "tifu"}
    text = drlaif_prompt(post, " Forgot keys. ")
    assert text == (DRLAIF_PREAMBLE + "\n\nSUBREDDIT: r/tifu\n\nTITLE: Keys\n\nPOST: I forgot my keys.\n\n"
                    "SUMMARY: Forgot keys.\n\n" + DRLAIF_ENDING)


def test_ensure_loads_done_stages_and_runs_only_missing_ones(tmp_path, monkeypatch, capsys):
    from rlaif_lib import notebook, pipeline
    from rlaif_lib.presets import get_preset
    from rlaif_lib.run_folder import RunFolder, write_json

    run = RunFolder(tmp_path)
    for stage in ("data", "sft"):
        run.stage(stage).mkdir()
        write_json(run.done(stage), {"seconds": 1})
    write_json(run.metrics, {"preset": "micro"})
    calls = []
    monkeypatch.setattr(pipeline, "run", lambda preset, out, stages: calls.append(list(stages)) or {"ran": True})
    assert notebook.ensure(get_preset("micro"), run, ["data", "sft"]) == {"preset": "micro"} and calls == []
    assert "[sft] loaded from" in capsys.readouterr().out
    assert notebook.ensure(get_preset("micro"), run, ["data", "sft", "sample"]) == {"ran": True}
    assert calls == [["data", "sft", "sample"]]
    assert "[sample] not in" in capsys.readouterr().out
