r"""REINFORCE with a leave-one-out baseline and a KL penalty, from scratch: one step of TRL's `RLOOTrainer`.

The objective is J(θ) = E_{x, y ~ π_θ(·|x)} [R(x, y)]. Since ∇π = π ∇log π (the log-derivative trick),

    ∇J = E[ R(x, y) ∇ log π_θ(y | x) ],    log π_θ(y | x) = Σ_t log π_θ(y_t | x, y_<t),

an expectation we estimate with samples y_1..y_k of each prompt. Any baseline b that does not depend on y keeps the
estimate unbiased, E_y[b ∇ log π_θ(y|x)] = b ∇ Σ_y π_θ(y|x) = b ∇ 1 = 0, so (R - b) ∇ log π has the same mean; with
b ≈ E[R | x] it removes the part of R that every sample of x shares, and with it most of the variance. RLOO's b:

    b_i = mean_{j≠i} R_j          (the other k - 1 samples of the same prompt: independent of y_i)
    R_i = r(x, y_i) - β KL_i,     KL_i = Σ_t [log π_θ(y_i,t | ·) - log π_ref(y_i,t | ·)]  (π_ref frozen; no gradient)
    A_i = R_i - b_i,              loss = - mean_i [ A_i Σ_t log π_θ(y_i,t | x, y_i,<t) ]

KL_i is the single-sample estimate of KL(π_θ || π_ref) on the rollout: it can be negative; its mean cannot.
"""
from __future__ import annotations

import math

import torch


def sequence_logps(model, prompt_ids, prompt_mask, completion_ids, completion_mask, temperature):
    """log π(y_t | x, y_<t) of each completion token, shape (rollouts, completion length), 0 at padding. The
    logits are divided by the sampling temperature first, as TRL does (its log-probs are those of the sampler)."""
    ids = torch.cat([prompt_ids, completion_ids], dim=1)
    attention = torch.cat([prompt_mask, completion_mask], dim=1)
    logits = model(input_ids=ids, attention_mask=attention).logits[:, prompt_ids.shape[1] - 1:-1] / temperature
    logps = torch.log_softmax(logits.float(), dim=-1).gather(2, completion_ids.unsqueeze(-1)).squeeze(-1)
    return logps * completion_mask


def leave_one_out_advantages(R, k):
    """A_i = R_i - mean of the other k - 1 rewards of the same prompt (rollouts grouped k by k, as TRL orders them)."""
    grouped = R.view(-1, k)
    baseline = (grouped.sum(dim=1, keepdim=True) - grouped) / (k - 1)
    return (grouped - baseline).view(-1)


def penalised_rewards(policy, reference, batch, rewards, beta, temperature):
    """(per-token log-probs of the policy, with gradient; KL_i; R_i = r_i - β KL_i). `batch` holds TRL's
    prompt_ids, prompt_mask, completion_ids, completion_mask; `rewards` is r(x, y_i), one per rollout."""
    args = [batch[key] for key in ("prompt_ids", "prompt_mask", "completion_ids", "completion_mask")]
    logps = sequence_logps(policy, *args, temperature)
    with torch.no_grad():
        ref_logps = sequence_logps(reference, *args, temperature)
    kl = (logps.detach() - ref_logps).sum(dim=1)  # summed over the completion's tokens (padding is 0 in both)
    return logps, kl, rewards - beta * kl


def reinforce_loss(policy, reference, batch, rewards, beta, temperature, k):
    """The REINFORCE loss with the leave-one-out baseline; returns (loss, {advantages, kl, penalised_reward}).

    Aggregation, as TRL 1.16's RLOO: sum the token log-probs of each rollout (one sequence-level log π(y|x)),
    then mean over the rollouts of the batch; not a mean over tokens. TRL writes PPO's clipped objective
    -min(ρ A, clip(ρ, 1-ε, 1+ε) A) with ρ = π_θ(y|x) / π_old(y|x), both sequence-level; in a single-update step
    π_old is the policy that sampled the batch, i.e. θ itself, so ρ = 1 (clipping does nothing) and
    ∇ρ = ∇ log π_θ(y|x): TRL's gradient is REINFORCE's (its loss *value* is -mean(A) = 0, ours is not)."""
    logps, kl, R = penalised_rewards(policy, reference, batch, rewards, beta, temperature)
    advantages = leave_one_out_advantages(R, k)
    loss = -(advantages * logps.sum(dim=1)).mean()
    return loss, {"advantages": advantages, "kl": kl, "penalised_reward": R}


def reinforce_step(policy, reference, optimizer, batch, rewards, beta, temperature, k, max_grad_norm=1.0):
    """One optimizer step of REINFORCE with the leave-one-out baseline: zero_grad, loss, backward, clip, step.
    `max_grad_norm` clips the gradient's global norm before the step, as the Hugging Face Trainer under TRL does
    (its default: 1.0; None: no clipping). Returns what a student wants to print."""
    optimizer.zero_grad()
    loss, stats = reinforce_loss(policy, reference, batch, rewards, beta, temperature, k)
    loss.backward()
    # the global norm before clipping (with max_grad_norm None: measured, nothing clipped)
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), math.inf if max_grad_norm is None else max_grad_norm)
    optimizer.step()
    return {"loss": loss.item(), "grad_norm": grad_norm.item(), **{key: v.detach() for key, v in stats.items()}}


def gradient_variance(policy, reference, batch, rewards, beta, temperature, k):
    """How much the leave-one-out baseline cuts the variance of the policy gradient, on the same rollouts.

    Each rollout i gives an estimate g_i = w_i ∇ log π_θ(y_i | x) of the gradient: w_i = A_i with the baseline,
    w_i = R_i without (both unbiased). Returns {"with_baseline", "without_baseline"}: the variance over the
    rollouts of g_i, summed over all parameters (the trace of its covariance), (1/(N-1)) Σ_i ||g_i - mean g||².
    One backward pass per rollout; the per-rollout gradients are accumulated, never stored."""
    with torch.no_grad():
        _, _, R = penalised_rewards(policy, reference, batch, rewards, beta, temperature)
    weights = {"with_baseline": leave_one_out_advantages(R, k), "without_baseline": R}
    params = [p for p in policy.parameters() if p.requires_grad]
    total = {name: 0.0 for name in weights}  # Σ_i g_i
    squares = {name: 0.0 for name in weights}  # Σ_i ||g_i||²
    n = len(R)
    for i in range(n):
        one = {key: batch[key][i:i + 1] for key in ("prompt_ids", "prompt_mask", "completion_ids", "completion_mask")}
        logp = sequence_logps(policy, *one.values(), temperature).sum()
        grad = torch.cat([g.flatten() for g in torch.autograd.grad(logp, params)])  # ∇ log π_θ(y_i | x)
        for name, w in weights.items():
            total[name] = total[name] + w[i] * grad
            squares[name] += (w[i] ** 2 * grad.dot(grad)).item()
    return {name: (squares[name] - total[name].dot(total[name]).item() / n) / (n - 1) for name in weights}
