"""The from-scratch REINFORCE step (rlaif_lib.method.reinforce) is one optimizer step of TRL's RLOOTrainer:
same advantages, same gradient, same parameters after the step, on the batch TRL itself generated.

TRL's side is its own training loop (`trainer.train()` for one step): `rl.one_trl_step` only listens in,
recording the batch TRL generated, the rewards it computed and the gradient the optimizer stepped with. The policy is a tiny random Llama (the kit's tiny-policy family) taught for a few steps
to end its summaries, so that completion lengths differ (token aggregation matters) and it differs from its
reference (the KL term matters)."""
import random

import pytest
import torch

from .conftest import random_text

K, BETA, LR = 4, 0.1, 5e-5  # LR: the kit's (RLStageConfig's default)
ROLLOUT_KEYS = ("prompt_ids", "prompt_mask", "completion_ids", "completion_mask")


def prompt(rng):
    return "SUBREDDIT: r/x\n\nTITLE: " + random_text(rng, 3) + "\n\nPOST: " + random_text(rng, 15) + "\n\nTL;DR:"


def reward(prompts, completions, **kw):
    return [len(set(c.split())) / 5 for c in completions]


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    """(policy folder, reference folder): a random 2-layer Llama and the same after 40 steps of SFT on short
    summaries that end in EOS."""
    from transformers import AutoModelForCausalLM

    from rlaif_lib.policy import TinyPolicyConfig, build_model, train_tokenizer

    torch.manual_seed(0)
    rng = random.Random(0)
    tok = train_tokenizer([random_text(rng, 30) for _ in range(200)] + ["SUBREDDIT: r/x\n\nTITLE: \n\nPOST: \n\nTL;DR:"], 400)
    model = build_model(TinyPolicyConfig(n_layer=2, n_embd=32, n_head=2, n_positions=128), tok)
    reference = tmp_path_factory.mktemp("reference")
    model.save_pretrained(reference)
    tok.save_pretrained(reference)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(40):
        enc = tok([prompt(rng) + " " + random_text(rng, rng.randint(1, 6)) + tok.eos_token for _ in range(16)],
                  return_tensors="pt", padding=True)
        loss = model(**enc, labels=enc.input_ids.masked_fill(enc.attention_mask == 0, -100)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    policy = tmp_path_factory.mktemp("policy")
    model.save_pretrained(policy)
    tok.save_pretrained(policy)
    assert isinstance(AutoModelForCausalLM.from_pretrained(policy), type(model))
    return str(policy), str(reference)


@pytest.fixture(scope="module")
def trl(policies, tmp_path_factory):
    from datasets import Dataset

    from rlaif_lib.method.rl import RLStageConfig, one_trl_step, rl_trainer

    policy, reference = policies
    rng = random.Random(1)
    prompts = [{"id": str(i), "prompt": prompt(rng)} for i in range(2)]
    config = RLStageConfig(num_generations=K, batch_size=2 * K, max_completion_length=12, beta=BETA, max_steps=1,
                           learning_rate=LR, seed=0)
    trainer = rl_trainer(policy, reward, Dataset.from_list(prompts), tmp_path_factory.mktemp("rl"), config,
                         progress=False, reference=reference)
    step = one_trl_step(trainer)
    step["params"] = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    step["temperature"] = trainer.args.temperature
    return step


def fresh(path):
    """A plain copy of the model at `path`. Not copy.deepcopy(trainer.model): TRL patches the forward of its
    models (a fused LM head) with a closure over the original, and a deep copy would still run the original."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path)


def same_optimizer(params, trl_optimizer):
    """torch's AdamW with TRL's hyperparameters (the Trainer's default optim, adamw_torch_fused)."""
    group = trl_optimizer.param_groups[0]
    assert type(trl_optimizer) is torch.optim.AdamW
    assert {g["weight_decay"] for g in trl_optimizer.param_groups} == {0.0} and group["lr"] == LR
    return torch.optim.AdamW(params, lr=group["lr"], betas=group["betas"], eps=group["eps"], weight_decay=0.0,
                             fused=group["fused"])


def grad_of(policy, loss):
    """(pre-clipping gradient norm, {name: gradient after clipping to norm 1, as the Trainer clips})."""
    policy.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0).item()
    return norm, {name: p.grad.clone() for name, p in policy.named_parameters()}


def matches_trl(trl, norm, grads):
    """The gradient before clipping has TRL's norm, and after clipping TRL's entries. Both are needed: the Trainer
    clips to norm 1 and Adam's first step is about lr * sign(g), so a loss off by a constant factor (a sum over the
    rollouts instead of a mean) moves the parameters exactly as TRL's does; only the logged norm tells them apart."""
    return norm == pytest.approx(trl["grad_norm"], rel=1e-4) and all(
        torch.allclose(grads[name], g, rtol=1e-4, atol=1e-8) for name, g in trl["grads"].items())


def test_reinforce_step_equals_one_trl_step(policies, trl):
    from rlaif_lib.method.reinforce import reinforce_step

    policy, reference = fresh(policies[0]), fresh(policies[1]).eval()
    batch = trl["batch"]
    lengths = batch["completion_mask"].sum(dim=1)
    assert lengths.min() < lengths.max()  # lengths differ: a mean over tokens would weigh rollouts differently
    optimizer = same_optimizer(policy.parameters(), trl["optimizer"])
    out = reinforce_step(policy, reference, optimizer, batch, trl["rewards"], BETA, trl["temperature"], K)

    assert out["kl"].abs().max() > 0.05  # the policy is not its reference: the KL term is in the advantages
    assert torch.allclose(out["advantages"], batch["advantages"], atol=1e-5)
    assert out["grad_norm"] == pytest.approx(trl["grad_norm"], rel=1e-4)
    grads = {name: p.grad for name, p in policy.named_parameters()}
    assert matches_trl(trl, out["grad_norm"], grads)
    diff = max((p.detach() - trl["params"][name]).abs().max().item() for name, p in policy.named_parameters())
    moved = max((p.detach() - q.detach()).abs().max().item()
                for p, q in zip(policy.parameters(), fresh(policies[0]).parameters()))
    assert moved > 0.5 * LR  # the step moved the parameters (Adam's first step: about lr each) ...
    # ... and to where TRL's step moved them. Adam's first step is lr * g / (|g| + eps): ±lr wherever |g| >> eps =
    # 1e-8; the few entries with |g| ~ eps move by a fraction of lr that float32 round-off in g shifts (TRL's fused
    # log-softmax is not ours), by up to ~2% of lr here. A gradient entry of the wrong sign would be off by 2 * lr.
    assert diff < 1e-6


def test_the_comparison_would_catch_another_aggregation_or_no_kl(policies, trl):
    """Each variant of the loss a reader might write instead gives a gradient that `matches_trl` rejects."""
    from rlaif_lib.method.reinforce import leave_one_out_advantages, penalised_rewards

    batch, T = trl["batch"], trl["temperature"]
    reference = fresh(policies[1]).eval()

    def gradient(aggregate, beta=BETA):
        policy = fresh(policies[0])
        logps, _, R = penalised_rewards(policy, reference, batch, trl["rewards"], beta, T)
        A = leave_one_out_advantages(R, K)
        return grad_of(policy, aggregate(A, logps, batch["completion_mask"]))

    def trl_way(A, logps, mask):  # sum over tokens, mean over rollouts
        return -(A * logps.sum(dim=1)).mean()

    assert matches_trl(trl, *gradient(trl_way))
    assert not matches_trl(trl, *gradient(trl_way, beta=0.0))  # the KL penalty dropped
    assert not matches_trl(trl, *gradient(lambda A, logps, mask: -(A * logps.sum(1) / mask.sum(1)).mean()))  # GRPO
    assert not matches_trl(trl, *gradient(lambda A, logps, mask: -(A[:, None] * logps).sum() / mask.sum()))  # DAPO
    assert not matches_trl(trl, *gradient(lambda A, logps, mask: -(A * logps.sum(dim=1)).sum()))  # sum over rollouts


def test_leave_one_out_baseline_cuts_the_gradient_variance(policies, trl):
    """Rewards with a large common offset (100 + noise): without a baseline every rollout's gradient is mostly
    100 * ∇ log π(y|x), which points wherever y happened to go; the baseline removes the offset exactly."""
    from rlaif_lib.method.reinforce import gradient_variance

    rewards = 100 + torch.rand(len(trl["rewards"]), generator=torch.Generator().manual_seed(0))
    var = gradient_variance(fresh(policies[0]), fresh(policies[1]).eval(), trl["batch"], rewards, BETA,
                            trl["temperature"], K)
    assert 0 < var["with_baseline"] < 0.01 * var["without_baseline"]
