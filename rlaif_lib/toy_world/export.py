"""The toy world in the real datasets' schemas: trl-lib/tldr rows (SFT) and
openai/summarize_from_feedback "comparisons" rows, so every stage runs unchanged on either."""
from __future__ import annotations

from .posts import Post, author_tldr, format_prompt
from .raters import human_preference


def sft_rows(posts: list[Post]) -> list[dict]:
    """trl-lib/tldr rows: {"prompt": ..., "completion": " " + the author's own TL;DR}: like the real
    dataset's, of mixed quality (`posts.author_tldr`), not the ideal `post.reference`."""
    return [{"prompt": format_prompt(p), "completion": " " + author_tldr(p)} for p in posts]


def comparison_row(post: Post, summary_a: str, summary_b: str, choice: int, confidence: int | None,
                   policies=("ref", "ref"), split: str = "train") -> dict:
    """One row in openai/summarize_from_feedback's "comparisons" schema (texts get the real data's leading space)."""
    return {
        "info": {"id": post.id, "post": post.body, "title": post.title, "subreddit": post.subreddit,
                 "site": None, "article": None},
        "summaries": [{"text": " " + text.strip(), "policy": policy, "note": None}
                      for text, policy in zip((summary_a, summary_b), policies)],
        "choice": int(choice), "worker": "sim-0", "batch": "toy", "split": split, "extra": {"confidence": confidence},
    }


def rated_comparisons(posts: list[Post], pairs: list[dict], rng, split: str) -> list[dict]:
    """Comparison rows for pairs of summaries sampled for toy posts ({"id", "summary_a", "summary_b",
    "policy_a", "policy_b"}, as `sft.sample_pairs` returns them), each rated by a simulated human
    (`raters.human_preference`, drawing from `rng` in the pairs' order)."""
    by_id = {p.id: p for p in posts}
    rows = []
    for pair in pairs:
        post, a, b = by_id[pair["id"]], pair["summary_a"], pair["summary_b"]
        choice, confidence = human_preference(post, a, b, rng)
        rows.append(comparison_row(post, a, b, choice, confidence, policies=(pair["policy_a"], pair["policy_b"]), split=split))
    return rows
