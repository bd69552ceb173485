"""The reward each RL policy of Table 1 optimises, and the gold reward that rides along in the toy world.

    rlaif             the reward model trained on the AI labeler's soft labels
    rlhf              the same reward model trained on the human labels of the same pairs
    rlaif_same_size   the reward model trained on a labeler as small as the policy
    drlaif            no reward model: the labeler's own 1-10 score of each summary (Sec. 2.2.2)
    gold              (toy world only) the gold rater's score of the same rollouts, logged with weight 0
"""
from __future__ import annotations

from ..run_folder import RunFolder
from .labeling import LabelConfig
from .rl import RLStageConfig

# The reward models of the reward stage: folder name under reward/ -> metrics.json key (the keys
# README and other tools read). "ai_hard" is the comparison on argmax AI labels; no policy uses it.
REWARD_MODELS = {"ai": "reward_model", "human": "reward_model_rlhf", "ai_hard": "reward_model_hard_ai_labels",
                 "ai_same_size": "reward_model_same_size"}
# Which reward model each reward-model policy of Table 1 optimises.
POLICY_REWARD_MODEL = {"rlaif": "ai", "rlhf": "human", "rlaif_same_size": "ai_same_size"}
# The name each reward function is logged under by TRL: the keys of rl/<policy>/curves.json that
# the report and notebook 04 plot. "gold" is the toy world's gold rater.
REWARD_FN_NAMES = {"rlaif": "reward_model", "rlhf": "reward_model", "rlaif_same_size": "reward_model",
                   "drlaif": "d_rlaif", "gold": "gold"}
RL_POLICIES = (*POLICY_REWARD_MODEL, "drlaif")


def policy_reward(policy: str, run: RunFolder, rl: RLStageConfig, labeler: str, label: LabelConfig):
    """The TRL reward callable `policy` optimises, unweighted: RLAIF and RLHF a reward model (trained
    on AI and on human labels, read from `run`), d-RLAIF the `labeler`'s own 1-10 score with no reward
    model. The paper's (1 - beta) weight, when `rl.weight_reward_by_one_minus_beta` is set, is applied
    once, by rl.train_rl (TRL's reward_weights), never here."""
    if policy in POLICY_REWARD_MODEL:
        from .reward import make_reward_fn

        fn = make_reward_fn(run.reward_model(POLICY_REWARD_MODEL[policy]))
    elif policy == "drlaif":
        from .labeling import make_drlaif_reward
        from .labeling.simulated import is_simulated

        if is_simulated(labeler):
            raise ValueError(f"d-RLAIF scores each summary with an LLM labeler; {labeler!r} is a simulated pairwise "
                             "labeler: leave 'drlaif' out of Preset.rl_policies")

        score = make_drlaif_reward(labeler, label)

        def fn(prompts, completions, **kwargs):
            return list(score(prompts, completions, **kwargs))
    else:
        raise ValueError(f"unknown RL policy {policy!r}; choose from {sorted(RL_POLICIES)}")
    fn.__name__ = REWARD_FN_NAMES[policy]
    return fn


def gold_reward(posts: dict):
    """TRL reward callable: the gold rater's score of each completion (toy world only); `posts` maps
    the prompt's id to its toy-world Post."""
    from ..toy_world import gold_score

    def gold(prompts, completions, id, **kwargs):
        return [gold_score(posts[i], c) for i, c in zip(id, completions)]

    gold.__name__ = REWARD_FN_NAMES["gold"]
    return gold
