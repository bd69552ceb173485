"""Reward-model over-optimization (Gao et al. 2022, "Scaling Laws for Reward Model Overoptimization"), seen
in the toy world: a reward model is a proxy for the humans it was trained to imitate. RL that pushes it far
enough finds what the proxy gets wrong, and the true quality falls while the proxy's score still rises.

The experiment: RL from the run's SFT policy against one of its reward models (RLHF's by default: trained on
the simulated humans' own labels), for several times the preset's RL steps, once with almost no KL penalty and
once with the paper's beta = 0.05. At every step TRL logs, on the same rollouts, the reward model's score,
the gold rater's score (weight 0: it is watched, not optimised) and the KL from the SFT policy. The curve to
look at: gold against KL, beside the reward model's score against KL.

"Almost no" penalty is beta = 0.001, not 0: TRL computes the KL only when beta > 0, and 0.001 of a KL of
a few nats is nothing against a reward of order 1. Everything here is the kit's real RL (`method/rl.py`)
in the SIMULATED toy world; the committed result (`make overopt`) is what notebook 04 shows.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..run_folder import RunFolder, read_json, read_jsonl, write_json

COMMITTED = Path(__file__).resolve().parent.parent / "assets" / "overoptimization_tiny.json"


@dataclass
class OveroptConfig:
    """Which reward model, which KL coefficients, how many RL steps."""

    policy: str = "rlhf"  # whose reward model: "rlhf" (human labels) or "rlaif" (the labeler's)
    betas: tuple = (0.001, 0.05)  # almost no KL penalty, and the paper's
    steps: int = 120  # tiny's RL stage runs 30
    window: int = 15  # steps in the moving average that the plot and the peak read (one step: 32 rollouts)


def run_overoptimization(preset, run, out, config: OveroptConfig = OveroptConfig(), progress: bool = True) -> dict:
    """Train one RL policy per beta of `config` from the SFT policy of the finished run folder `run`, against its
    `config.policy` reward model, into out/beta-<b>/; write and return out/overoptimization.json (the
    per-step curves, and `summary`'s peak and end of each)."""
    from datasets import Dataset

    from ..method.rewards import gold_reward, policy_reward
    from ..method.rl import train_rl
    from ..presets import is_toy, toy_posts, with_seed

    if not is_toy(preset):
        raise ValueError("over-optimization needs the gold rater: the toy world only")
    run, out = RunFolder(run), Path(out)
    if not run.done("reward").exists():
        raise ValueError(f"{run.root} has no finished reward stage (run `rlaif run --stages ... reward` first)")
    preset = with_seed(preset)
    prompts = Dataset.from_list(read_jsonl(run.rl_prompts))
    gold = gold_reward(toy_posts(preset, "sft"))
    reward = policy_reward(config.policy, run, preset.rl, preset.labeler, preset.label)
    curves, start = {}, time.time()
    for beta in config.betas:
        folder = out / f"beta-{beta}"
        if progress:
            print(f"[overopt] beta = {beta}: {config.steps} RL steps against the {config.policy} reward model", flush=True)
        train_rl(run.sft, reward, prompts, folder, replace(preset.rl, beta=beta, max_steps=config.steps),
                 gold_fn=gold, progress=progress)
        curves[str(beta)] = read_json(folder / "curves.json")
    result = {"what": "RL against a reward model for several times the usual steps, with and without the KL "
                      "penalty; gold = the SIMULATED toy world's gold rater on the same rollouts",
              "preset": preset.name, "run": str(run.root), "config": asdict(config), "paper_beta": 0.05,
              "curves": curves, "seconds": round(time.time() - start, 1)}
    result["summary"] = summary(result)
    write_json(out / "overoptimization.json", result)
    return result


def moving_average(values: list, window: int) -> list:
    """The mean of each value and the `window` - 1 before it (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def summary(result: dict) -> dict:
    """Per beta: the smoothed gold score's start, peak (and its step and KL) and end, and the smoothed reward
    model score's start and end. Smoothed = `moving_average` over the config's window."""
    w = result["config"]["window"]
    out = {}
    for beta, c in result["curves"].items():
        gold, rm, kl = (moving_average(c[k], w) for k in ("gold", "reward_model", "kl"))
        first = min(w, len(gold)) - 1  # the first full window (a run shorter than one window: its last step)
        peak = max(range(len(gold)), key=gold.__getitem__)
        out[beta] = {"gold_start": gold[first], "gold_peak": gold[peak], "peak_step": c["step"][peak],
                     "peak_kl": kl[peak], "gold_end": gold[-1], "rm_start": rm[first], "rm_end": rm[-1],
                     "kl_end": kl[-1], "length_start": c["length"][0], "length_end": moving_average(c["length"], w)[-1]}
    return out


def reading_text(result: dict) -> str:
    """What the curves show, in sentences whose every number comes from `result`."""
    s, out = result["summary"], []
    low, paper = min(s, key=float), str(result["paper_beta"]) if str(result["paper_beta"]) in s else max(s, key=float)
    a, b = s[low], s[paper]
    fell = a["gold_end"] < a["gold_peak"] - 0.02
    out.append(f"With beta = {low} the reward model's score rises from {a['rm_start']:.2f} to {a['rm_end']:.2f} "
               f"over {result['config']['steps']} steps, while the gold score goes from {a['gold_start']:.2f} to a "
               f"peak of {a['gold_peak']:.2f} (step {a['peak_step']}, KL {a['peak_kl']:.2f}) and "
               + (f"falls back to {a['gold_end']:.2f} at KL {a['kl_end']:.2f}: over-optimization."
                  if fell else f"ends at {a['gold_end']:.2f}: no fall beyond the noise here."))
    held = b["gold_end"] >= b["gold_peak"] - 0.02
    out.append(f"With the paper's beta = {paper} the KL ends at {b['kl_end']:.2f} and the gold score "
               + (f"holds ({b['gold_end']:.2f} at the end, peak {b['gold_peak']:.2f})."
                  if held else f"also falls, from {b['gold_peak']:.2f} to {b['gold_end']:.2f}."))
    grew = a["length_end"] > 1.1 * a["length_start"]
    out.append(f"Rollouts average {a['length_start']:.0f} tokens at the first step, {a['length_end']:.0f} at the end "
               f"without the penalty and {b['length_end']:.0f} with it"
               + ("; past 32 words the gold rater docks every extra word." if grew else "."))
    return " ".join(out)


def plot_overoptimization(result: dict):
    """Gold score and reward-model score against the KL from the SFT policy, one line per beta (smoothed)."""
    import matplotlib.pyplot as plt

    w = result["config"]["window"]
    fig, (ax_rm, ax_gold) = plt.subplots(1, 2, figsize=(11, 3.8))
    for beta, c in sorted(result["curves"].items(), key=lambda kv: float(kv[0])):
        kl = moving_average(c["kl"], w)
        label = f"beta = {beta}" + (" (the paper's)" if float(beta) == result["paper_beta"] else "")
        ax_rm.plot(kl, moving_average(c["reward_model"], w), label=label)
        ax_gold.plot(kl, moving_average(c["gold"], w), label=label)
    for ax, name in ((ax_rm, "reward model score (the proxy)"), (ax_gold, "gold score (SIMULATED humans' truth)")):
        ax.set_xlabel("KL from the SFT policy (TRL's logged estimate)")
        ax.set_ylabel(name)
        ax.legend()
    fig.suptitle(f"Over-optimization: RL against the {result['config']['policy']} reward model, "
                 f"{result['config']['steps']} steps (moving average of {w})")
    fig.tight_layout()
    return fig


def load_committed(preset: str | None = None) -> dict | None:
    """The over-optimization curves measured on `tiny` and committed with the kit (`make overopt`); with `preset`
    (a name), None unless they were measured on that preset."""
    result = read_json(COMMITTED)
    return result if preset in (None, result["preset"]) else None


def commit(result: dict, path=COMMITTED) -> dict:
    """Save a `tiny` result as the kit's committed one, with a line saying when and how long it took."""
    from .precomputed import commit_tiny

    return commit_tiny(result, path, "rlaif overopt --preset tiny")
