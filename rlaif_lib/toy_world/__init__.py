"""ToyTLDR: a seeded world of Reddit-style advice posts whose facts are known.

It stands in for OpenAI's Reddit TL;DR data and its human raters, in the same schemas, so that
every notebook runs offline and still has a gold "human" to compare with. It is a simulation, and
everything it says about "humans" is about its simulated raters.

- vocabulary.py   the word tables and sentence templates (data only)
- posts.py        `Post`, `generate_posts`, `render_reference` (the ideal TL;DR), `author_tldr` (the author's,
                  the SFT target), `format_prompt` (the TL;DR prompt)
- gold.py         the gold rater `gold_score` / `gold_breakdown`; every constant of the score is named there
- corruptions.py  worse summaries of known kinds, policy-like pairs
- raters.py       simulated human raters (`human_preference`, TAU, `rater_agreement`, `calibrate_tau`)
- export.py       rows in the trl-lib/tldr and openai/summarize_from_feedback schemas

`from rlaif_lib import toy_world; toy_world.gold_score(...)`: the names the notebooks and the library use
are re-exported here; the word tables and the rest are in the modules above.
"""
from .corruptions import corrupt_summary, policy_like_pairs
from .export import comparison_row, rated_comparisons, sft_rows
from .gold import gold_breakdown, gold_score
from .posts import Post, author_tldr, format_prompt, generate_posts, render_reference
from .raters import TAU, human_preference, rater_agreement
from .vocabulary import AGE_RE

__all__ = ["corrupt_summary", "policy_like_pairs", "comparison_row", "rated_comparisons", "sft_rows", "gold_breakdown",
           "gold_score", "Post", "author_tldr", "format_prompt", "generate_posts", "render_reference", "TAU", "human_preference",
           "rater_agreement", "AGE_RE"]
