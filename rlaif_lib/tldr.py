"""The trl-lib/tldr prompt format, used by both worlds (the toy world's posts and the real data):

    SUBREDDIT: r/<subreddit>\\n\\nTITLE: <title>\\n\\nPOST: <post>\\n\\nTL;DR:

`tldr_prompt` writes it; `parse_tldr_prompt` reads it back (d-RLAIF and the AI judge score a
completion against the post its prompt came from).
"""
from __future__ import annotations

import re


def tldr_prompt(subreddit: str | None, title: str | None, post: str) -> str:
    """The trl-lib/tldr prompt for any post (None renders as an empty string)."""
    return f"SUBREDDIT: r/{subreddit or ''}\n\nTITLE: {title or ''}\n\nPOST: {post}\n\nTL;DR:"


def parse_tldr_prompt(prompt: str) -> dict:
    """{subreddit, title, post} from a TL;DR-format prompt ("SUBREDDIT: r/...\\n\\nTITLE: ...\\n\\nPOST:
    ...\\n\\nTL;DR:"); anything else is taken as the post itself."""
    m = re.match(r"\s*SUBREDDIT: r/(.*?)\n+TITLE: (.*?)\n+POST: (.*?)\s*TL;DR:\s*$", prompt, re.S)
    if m:
        return {"subreddit": m[1].strip(), "title": m[2].strip(), "post": m[3].strip()}
    return {"subreddit": "", "title": "", "post": re.sub(r"\s*TL;DR:\s*$", "", prompt).strip()}
