"""ToyTLDR: a seeded world of Reddit-style advice posts whose facts are known.

It stands in for OpenAI's Reddit TL;DR data and its human raters, in the same schemas, so that
every notebook runs offline and still has a gold "human" to compare with. It is a simulation, and
everything it says about "humans" is about its simulated raters.

- vocabulary.py   the word tables and sentence templates (data only)
- posts.py        `Post`, `generate_posts`, `render_reference`, `format_prompt` (the TL;DR prompt)
- gold.py         the gold rater `gold_score` / `gold_breakdown`; every constant of the score is named there
- corruptions.py  worse summaries of known kinds, policy-like pairs
- raters.py       simulated human raters (`human_preference`, TAU, `rater_agreement`, `calibrate_tau`)
- export.py       rows in the trl-lib/tldr and openai/summarize_from_feedback schemas
- simulated_labeler.py  a SIMULATED AI labeler of chosen alignment and position bias (a what-if for
                  the labeler sweep; import it as `from rlaif_lib.toy_world import simulated_labeler`)

`from rlaif_lib import toy_world; toy_world.gold_score(...)`: every public name is re-exported here.
"""
from ..tldr import tldr_prompt
from .corruptions import CORRUPTIONS, POLICY_LIKE_KINDS, corrupt_summary, policy_like_pairs, sample_policy_pair
from .export import comparison_row, rated_comparisons, sft_rows
from .gold import MAX_WORDS, MIN_WORDS, WRONG_FACT_COST, gold_breakdown, gold_score
from .posts import KEY_SLOTS, SPLITS, Post, format_prompt, generate_posts, key_facts, render_reference
from .raters import TAU, calibrate_tau, human_preference, rater_agreement
from .vocabulary import (AGE_GAP, AGE_RE, COMPLICATIONS, DISTRACTORS, DURATION_RE, DURATIONS, EVENTS, FEELINGS, FILLERS, INTROS, NO_COMPLICATION_TEMPLATE, NUMBER_WORDS, OPENERS, QUESTION_LEADS, QUESTIONS, REFERENCE_TEMPLATES, RELATIONS, SHORT_NAMES, SLOT_TABLES, SUBJECTS, SUBJECTS_NO_DURATION, SUBJECTS_NO_RELATION, SUBREDDITS, TITLES, VAGUE, Fact)

__all__ = ["tldr_prompt", "CORRUPTIONS", "POLICY_LIKE_KINDS", "corrupt_summary", "policy_like_pairs",
           "sample_policy_pair", "comparison_row", "rated_comparisons", "sft_rows", "MAX_WORDS", "MIN_WORDS", "WRONG_FACT_COST",
           "gold_breakdown", "gold_score", "KEY_SLOTS", "SPLITS", "Post", "format_prompt", "generate_posts", "key_facts",
           "render_reference", "TAU", "calibrate_tau", "human_preference", "rater_agreement", "AGE_GAP", "AGE_RE",
           "COMPLICATIONS", "DISTRACTORS", "DURATION_RE", "DURATIONS", "EVENTS", "FEELINGS", "FILLERS", "INTROS",
           "NO_COMPLICATION_TEMPLATE", "NUMBER_WORDS", "OPENERS", "QUESTION_LEADS", "QUESTIONS", "REFERENCE_TEMPLATES",
           "RELATIONS", "SHORT_NAMES", "SLOT_TABLES", "SUBJECTS", "SUBJECTS_NO_DURATION", "SUBJECTS_NO_RELATION",
           "SUBREDDITS", "TITLES", "VAGUE", "Fact"]
