"""Direct RLAIF (d-RLAIF, Sec. 2.2.2): the labeler's own 1-10 score of one summary is the RL reward,
with no reward model in between. The prompt is Appendix D's (templates in `prompts.py`)."""
from __future__ import annotations

import json

import numpy as np

from ...tldr import parse_tldr_prompt
from .prompts import (
    DRLAIF_ENDING,
    DRLAIF_PREAMBLE,
    DRLAIF_SUMMARY_TEMPLATE,
    DRLAIF_TEXT_TEMPLATE,
    LabelConfig,
    truncate_post,
    wrap_prompt,
)
from .scoring import continuation_ids, label_batch_size, load_labeler, score_rows


def _score_tokens(tokenizer, ending: str):
    """How "1".."10" appear after `ending`: (ending actually used, text before a digit, ids of "1".."9"
    (+ "10" if it is one token), id of "0" when "10" is "1" then "0", else None). If the ending's
    trailing space would merge into the digit (GPT-2 style " 7"), it moves from the ending to the answer."""
    sep = ""
    try:
        conts = [continuation_ids(tokenizer, ending, str(s)) for s in range(1, 11)]
    except ValueError:
        if not ending.endswith(" "):
            raise
        ending, sep = ending.rstrip(" "), " "
        conts = [continuation_ids(tokenizer, ending, f" {s}") for s in range(1, 11)]
    if any(len(c) != 1 for c in conts[:9]):
        raise ValueError(f"scores 1-9 are not single tokens after {ending!r}: {conts[:9]}")
    if len(conts[9]) == 1:
        return ending, sep, [c[0] for c in conts], None
    if len(conts[9]) == 2 and conts[9][0] == conts[0][0]:
        return ending, sep, [c[0] for c in conts[:9]], conts[9][1]
    raise ValueError(f"'10' after {ending!r} is {conts[9]}: expected one token or '1' then '0'")



def _render(post: dict, summary: str, tokenizer, config: LabelConfig, ending: str) -> tuple[str, str]:
    text = post["post"] if tokenizer is None else truncate_post(post["post"], tokenizer, config.max_post_tokens)[0]
    body = DRLAIF_TEXT_TEMPLATE.format(subreddit=(post.get("subreddit") or "").strip(), post=text.strip(),
                                       title=(post.get("title") or "").strip())
    body += DRLAIF_SUMMARY_TEMPLATE.format(summary=summary.strip())
    return wrap_prompt(tokenizer, config, DRLAIF_PREAMBLE + "\n\n", body, ending)


def drlaif_prompt(post: dict, summary: str, tokenizer=None, config: LabelConfig = LabelConfig()) -> str:
    """The d-RLAIF scoring prompt for one summary of `post` (a dict with "post", optional "title" and
    "subreddit"), exactly as `dscore` sends it: Appendix D's preamble, the post, the summary, "SCORE: ".
    With the labeler's tokenizer it is the chat rendering `dscore` uses; without, the paper's raw text."""
    ending = _score_tokens(tokenizer, DRLAIF_ENDING)[0] if tokenizer is not None else DRLAIF_ENDING
    return _render(post, summary, tokenizer, config, ending)[1]


def dscore(labeler, posts: list[dict], summaries: list[str], config: LabelConfig = LabelConfig()) -> np.ndarray:
    """Expected score s = sum_i i * P(i), i = 1..10, of each summary of its post (dicts with "post",
    optional "title"/"subreddit"); P is renormalised over the ten scores. SmolLM2 writes "10" as "1"
    then "0": one forward pass with "1" appended reads both P("1") and P("0" | "1"), and
    P(10) = P("1") P("0"|"1"), P(1) = P("1") (1 - P("0"|"1"))."""
    import torch
    model, tokenizer, _ = load_labeler(labeler)
    ending, sep, ids, zero = _score_tokens(tokenizer, DRLAIF_ENDING)
    fulls, prefix = [], ""
    for post, summary in zip(posts, summaries):
        prefix, full = _render(post, summary, tokenizer, config, ending)
        fulls.append(full + (sep + "1" if zero is not None else ""))
    k = 1 if zero is None else 2
    scores, store, rows = [], {}, 2 * label_batch_size(config, model)
    for start in range(0, len(fulls), rows):
        chunk = list(range(start, min(start + rows, len(fulls))))
        same_post: dict = {}  # RL scores several completions per prompt: their post is run once
        for i in chunk:
            same_post.setdefault(json.dumps(posts[i], sort_keys=True), []).append(i - start)
        lp = score_rows(model, tokenizer, prefix, [fulls[i] for i in chunk], k, store, list(same_post.values())).double()
        p = lp[:, 0, ids].exp()
        if zero is not None:
            p_zero = lp[:, 1, zero].exp()
            p = torch.cat([p[:, :1] * (1 - p_zero[:, None]), p[:, 1:], p[:, :1] * p_zero[:, None]], dim=1)
        p = p / p.sum(-1, keepdim=True)
        scores.append((p * torch.arange(1, 11, dtype=p.dtype, device=p.device)).sum(-1).cpu())
    return torch.cat(scores).numpy() if scores else np.zeros(0)


def make_drlaif_reward(labeler="smollm2-135m-instruct", config: LabelConfig = LabelConfig()):
    """A TRL reward callable f(prompts, completions, **kw) -> list[float]: the d-RLAIF score of each
    completion, rescaled from [1, 10] to [-1, 1]. An empty completion gets -1 without a forward pass."""
    def d_rlaif(prompts, completions, **kwargs) -> list[float]:
        rewards = [-1.0] * len(completions)
        keep = [i for i, c in enumerate(completions) if isinstance(c, str) and c.strip()]
        if keep:
            s = dscore(labeler, [parse_tldr_prompt(prompts[i]) for i in keep], [completions[i] for i in keep], config)
            for i, x in zip(keep, s):
                rewards[i] = float(np.clip((x - 5.5) / 4.5, -1, 1))
        return rewards
    return d_rlaif

