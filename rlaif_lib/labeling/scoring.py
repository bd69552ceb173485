"""The labeler model and the scoring engine: the log-probabilities of the answer tokens after a prompt.

- Answer tokens: the ids of "1" and "2" are read off the tokenization of ending + "1", so a byte-level
  BPE ("1" after "=") and a SentencePiece tokenizer ("1" vs "▁1") both get the token the model
  would actually emit there. Anything that is not one token there raises a ValueError.
- Speed (`score_rows`): the shared prefix (preamble + exemplars) is run once and its KV cache is
  repeated across each batch; both orders of a pair go in one batch and share the post too (run
  once per pair); the rest is right-padded and the logit is read at each row's last real token. On
  2 CPU cores this is ~4x faster than the plain loop of `soft_label` (benchmarks/labeling.py) and
  agrees with it to 1e-5.
- Loading (`load_labeler`): one function turns a preset name, folder or hub id or a (model,
  tokenizer) pair into the model every labeling function uses. Names load through
  `models.load_labeler`: on the device policy's device and dtype, one labeler in memory at a time.
- Device: every tensor is built on `model.device`; results come back to the CPU before numpy.
"""
from __future__ import annotations

import copy
import inspect

import numpy as np

from .prompts import ENDING


# ---------------------------------------------------------------------------------------------
# The labeler model
# ---------------------------------------------------------------------------------------------
def load_labeler(labeler) -> tuple:
    """(model, tokenizer, name) of a labeler: a preset name, folder or hub id (loaded through
    `models.load_labeler`: the device policy's device and dtype, kept for reuse, and only one labeler
    in memory at a time), or a (model, tokenizer) pair (its name read off the model's config)."""
    if isinstance(labeler, (tuple, list)):
        model, tokenizer = labeler
        return model, tokenizer, str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
    from .. import models

    model, tokenizer = models.load_labeler(str(labeler))
    return model, tokenizer, str(labeler)


def label_batch_size(config, model) -> int:
    """Pairs per labeling pass: `config.batch_size`, or (None) the device policy's suggestion for
    the model's size (8 on CPU, the CPU default, so CPU labels do not depend on it)."""
    if config.batch_size:
        return config.batch_size
    from ..device import get_policy

    return get_policy().batch_size("label", model.num_parameters() if model is not None else None)


# ---------------------------------------------------------------------------------------------
# Tokens and forward passes
# ---------------------------------------------------------------------------------------------
def encode(tokenizer, text: str) -> list[int]:
    """Token ids with the tokenizer's special tokens (e.g. BOS), unless the text already starts with
    them (a chat rendering that carries its own BOS)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    special = tokenizer("", add_special_tokens=True)["input_ids"]
    return tokenizer(text)["input_ids"] if special and ids[:len(special)] != special else ids


def continuation_ids(tokenizer, ending: str, text: str) -> list[int]:
    """The tokens that `text` becomes when it directly follows `ending`."""
    base = tokenizer(ending, add_special_tokens=False)["input_ids"]
    full = tokenizer(ending + text, add_special_tokens=False)["input_ids"]
    if full[:len(base)] != base:
        raise ValueError(f"The tokenizer merges {text!r} into the ending {ending!r} "
                         f"({tokenizer.convert_ids_to_tokens(full[-3:])}); the answer is not a separate token.")
    return full[len(base):]


def answer_token_ids(tokenizer, prompt_ending: str = ENDING) -> tuple[int, int]:
    """Ids of "1" and "2" as the model would emit them right after `prompt_ending` (byte-level BPE
    gives "1"; SentencePiece gives "1" after "=" although "1" alone encodes as "▁1")."""
    ids = []
    for answer in ("1", "2"):
        cont = continuation_ids(tokenizer, prompt_ending, answer)
        if len(cont) != 1:
            raise ValueError(f"{answer!r} after {prompt_ending!r} is {len(cont)} tokens "
                             f"{tokenizer.convert_ids_to_tokens(cont)}, not one: this tokenizer cannot be "
                             f"scored with the paper's 1-vs-2 method.")
        ids.append(cont[0])
    if ids[0] == ids[1]:
        raise ValueError("'1' and '2' map to the same token id (unknown token?)")
    return ids[0], ids[1]


def _cache_kw(model) -> str:
    """transformers >= 5.2x calls the KV-cache argument `cache`; earlier releases `past_key_values`."""
    return "cache" if "cache" in inspect.signature(model.base_model.forward).parameters else "past_key_values"


def prefix_cache(model, prefix_ids: list[int]):
    """The KV cache of one run of the model over `prefix_ids` (the shared preamble + exemplars)."""
    import torch
    with torch.no_grad():
        out = model.base_model(input_ids=torch.tensor([prefix_ids], device=model.device), use_cache=True)
    return getattr(out, "cache", None) or out.past_key_values


def last_logprobs(model, prefix_ids, cache, mids: list[list[int]], tails: list[list[list[int]]], k: int = 1):
    """Log-softmax over the vocabulary at the last `k` positions of every row. Rows come in groups:
    group g is `prefix_ids` (whose KV `cache` is given) + `mids[g]` (run once for the group) + one of
    `tails[g]`. Mids and tails are right-padded; the attention mask hides the padding, position ids
    count real tokens only, and the read positions are each row's own last tokens. Returns [rows, k, V]."""
    import torch
    p, m = len(prefix_ids), max(map(len, mids))
    kw, base, dev = _cache_kw(model), model.base_model, model.device
    kv = None
    if p:
        kv = copy.deepcopy(cache)
        kv.batch_repeat_interleave(len(mids))
    with torch.no_grad():
        if m:  # the block each group shares (the post, shown in both orders), once per group
            ids = torch.zeros((len(mids), m), dtype=torch.long, device=dev)
            mask = torch.ones((len(mids), p + m), dtype=torch.long, device=dev)
            for g, x in enumerate(mids):
                ids[g, :len(x)] = torch.tensor(x, dtype=torch.long, device=dev)
                mask[g, p + len(x):] = 0
            out = base(input_ids=ids, attention_mask=mask,
                       position_ids=torch.arange(p, p + m, device=dev).expand(len(mids), m),
                       use_cache=True, **({kw: kv} if kv is not None else {}))
            kv = getattr(out, "cache", None) or out.past_key_values
        group = [g for g, ts in enumerate(tails) for _ in ts]
        rows = [t for ts in tails for t in ts]
        if kv is not None:
            kv.batch_select_indices(torch.tensor(group, device=dev))
        n, s = len(rows), max(map(len, rows))
        ids = torch.zeros((n, s), dtype=torch.long, device=dev)
        mask = torch.zeros((n, p + m + s), dtype=torch.long, device=dev)
        pos = torch.zeros((n, s), dtype=torch.long, device=dev)
        for r, (g, x) in enumerate(zip(group, rows)):
            ids[r, :len(x)] = torch.tensor(x, dtype=torch.long, device=dev)
            mask[r, :p + len(mids[g])] = 1
            mask[r, p + m:p + m + len(x)] = 1
            pos[r] = torch.arange(s, device=dev) + p + len(mids[g])
        hidden = base(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=kv is not None,
                      **({kw: kv} if kv is not None else {})).last_hidden_state
        at = torch.tensor([len(x) for x in rows], device=dev)[:, None] - k + torch.arange(k, device=dev)[None]
        logits = model.get_output_embeddings()(hidden[torch.arange(n, device=dev)[:, None], at]).float()
        cap = getattr(model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)


STATS = {"cached_rows": 0, "uncached_rows": 0}  # scored rows with / without the shared-prefix cache


def _common(rows: list[list[int]], start: int, stop: int) -> int:
    """End of the common token prefix of `rows`, searched in [start, stop)."""
    n = start
    while n < stop and all(r[n] == rows[0][n] for r in rows):
        n += 1
    return n


def score_rows(model, tokenizer, prefix: str, fulls: list[str], k: int = 1, store: dict | None = None,
                groups: list[list[int]] | None = None):
    """[n, k, V] log-probs at the end of complete prompts that start with the text `prefix`.
    Two levels of sharing: (1) the prefix's tokens, cut back to where the first row agrees (a BPE
    may merge across the boundary, e.g. "\n\n" alone vs "\n" "\n" before "Text"), whose KV cache
    is computed once per `store`; (2) within each group of row indices (both orders of one pair),
    their common tokens after it (the post). Rows not starting with the prefix run without cache."""
    import torch
    rows = [encode(tokenizer, f) for f in fulls]
    pre = encode(tokenizer, prefix) if prefix else []
    pre = pre[:_common([pre, rows[0]], 0, min(len(pre), len(rows[0]) - k))]
    ok = [bool(pre) and r[:len(pre)] == pre and len(r) >= len(pre) + k for r in rows]
    out, store = [None] * len(rows), {} if store is None else store
    if pre and tuple(pre) not in store and any(ok):
        store[tuple(pre)] = prefix_cache(model, pre)
    groups = [[i for i in g if ok[i]] for g in (groups or [[i] for i in range(len(rows))])]
    groups = [g for g in groups if g]
    mids = [rows[g[0]][len(pre):_common([rows[i] for i in g], len(pre), min(len(rows[i]) for i in g) - k)]
            if len(g) > 1 else [] for g in groups]
    plans = [(pre, store.get(tuple(pre)), groups, mids)]
    bad = [i for i in range(len(rows)) if not ok[i]]
    if bad:
        plans.append(([], None, [[i] for i in bad], [[] for _ in bad]))
    for p, cache, gs, ms in plans:
        if not gs:
            continue
        res = last_logprobs(model, p, cache, ms, [[rows[i][len(p) + len(m):] for i in g] for g, m in zip(gs, ms)], k)
        for j, i in enumerate(i for g in gs for i in g):
            out[i] = res[j]
        STATS["cached_rows" if p else "uncached_rows"] += sum(map(len, gs))
    return torch.stack(out)


def two_way(logprobs, ids) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over the log-probs of "1" and "2" -> probs [n, 2]; other_mass = 1 - P(1) - P(2)."""
    lp = logprobs[:, list(ids)].double().cpu()
    probs = lp.softmax(-1).numpy()
    return probs, (1 - lp.exp().sum(-1)).clamp(min=0).numpy()


def soft_label(model, tokenizer, prompts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The reference scorer: one prompt at a time, a plain forward pass, no cache or padding.
    Returns (probs [n, 2] = softmax of the log-probs of "1" and "2", other_mass [n])."""
    import torch
    ids = answer_token_ids(tokenizer)
    rows = []
    with torch.no_grad():
        for prompt in prompts:
            x = torch.tensor([encode(tokenizer, prompt)], device=model.device)
            rows.append(torch.log_softmax(model(input_ids=x, logits_to_keep=1).logits[0, -1].float(), -1))
    return two_way(torch.stack(rows), ids)
