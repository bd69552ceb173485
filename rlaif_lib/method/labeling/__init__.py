"""AI labeling (Sec. 2.1) and everything around it, one file per idea:

- label.py      `label_pairs`: the whole procedure, both orders averaged, CoT, resumable; `select_exemplars`
- prompts.py    the paper's templates (Tables 15-17), `LabelConfig`, `build_prompt`
- scoring.py    `load_labeler` and the batched shared-prefix engine (`score_rows`, `soft_label`, ...)
- cache.py      the append-only JSONL cache that survives kill -9
- direct.py     d-RLAIF (Sec. 2.2.2): the labeler's 1-10 score as the RL reward
- baselines.py  longer-wins, random and MiniLM-similarity labelers
- metrics.py    alignment with human choices, position bias (Table 4)
- tables.py     Tables 2, 3 and 14, with the paper's numbers beside the kit's
"""
from .baselines import embedding_labeler, length_labeler
from .direct import drlaif_prompt, dscore, make_drlaif_reward
from .label import label_pairs, select_exemplars
from .metrics import alignment, position_bias, position_direction
from .prompts import BASE_PREAMBLE, DETAILED_PREAMBLE, DRLAIF_ENDING, DRLAIF_PREAMBLE, ENDING, LabelConfig, build_prompt
from .scoring import load_labeler, soft_label

__all__ = ["label_pairs", "select_exemplars", "LabelConfig", "build_prompt", "BASE_PREAMBLE", "DETAILED_PREAMBLE",
           "ENDING", "DRLAIF_PREAMBLE", "DRLAIF_ENDING", "load_labeler", "soft_label", "drlaif_prompt", "dscore",
           "make_drlaif_reward", "length_labeler", "embedding_labeler", "alignment", "position_bias", "position_direction"]
