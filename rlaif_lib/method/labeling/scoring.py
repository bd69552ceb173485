"""The labeler model and the scoring engine: the log-probabilities of the answer tokens after a prompt.

- Answer tokens: the ids of "1" and "2" are read off the tokenization of ending + "1", so a byte-level
  BPE ("1" after "=") and a SentencePiece tokenizer ("1" vs "▁1") both get the token the model
  would actually emit there. Anything that is not one token there raises a ValueError.
- Speed (`score_rows`, `sample_continuations`): the shared prefix (preamble + exemplars) runs once
  and its KV cache is broadcast to every batch. The rest of a batch is one forward
  pass: each group of rows (a pair's two orders; a prompt's sampled rationales; a post's d-RLAIF
  summaries) is laid out as a token trie, so every token the rows share (the post) runs once, under
  an attention mask that lets each token see only its own ancestors (`tree_batch`); the LM head
  runs only at the read positions.
  The numbers are those of a plain forward pass of each prompt alone (fp32, to 1e-5). What that
  buys over the plain loop of `soft_label` is printed by benchmarks/labeling.py, and with `--precision`
  why the engine stays in fp32 (int8 and bf16 flip many labels: the labeler's soft labels sit within a
  few hundredths of 0.5).
- Loading (`load_labeler`): one function turns a preset name, folder or hub id or a (model,
  tokenizer) pair into the model every labeling function uses.
- Device: every tensor is built on the CPU and moved to `model.device`; results come back to the CPU
  before numpy. Names load through `models.load_labeler`: on the device policy's device and dtype,
  one labeler in memory at a time.
"""
from __future__ import annotations

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
    from ... import models

    model, tokenizer = models.load_labeler(str(labeler))
    return model, tokenizer, str(labeler)


def label_batch_size(config, model) -> int:
    """Pairs per labeling pass: `config.batch_size`, or (None) the device policy's suggestion for
    the model's size (8 on CPU, the CPU default, so CPU labels do not depend on it)."""
    if config.batch_size:
        return config.batch_size
    from ...device import get_policy

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


def _trie(rows: list[list[int]]):
    """The token trie of `rows`: each distinct prefix once. Returns (token of each node, its parent
    (-1 for the root's children), its depth, and each row's path of nodes); nodes come in insertion
    order, so a parent always precedes its children."""
    tokens, parent, depth, paths, child = [], [], [], [], {}
    for row in rows:
        at, path = -1, []
        for t in row:
            if (at, t) not in child:
                child[(at, t)] = len(tokens)
                tokens.append(t)
                parent.append(at)
                depth.append(depth[at] + 1 if at >= 0 else 0)
            at = child[(at, t)]
            path.append(at)
        paths.append(path)
    return tokens, parent, depth, paths


def tree_batch(p: int, mids: list[list[int]], tails: list[list[list[int]]], k: int = 1):
    """Inputs of one forward pass over groups of rows that share a prefix of `p` tokens (already in the
    KV cache). Group g's rows are `mids[g]` + each tail of `tails[g]`; they are laid out as a token
    trie in one sequence, so every token they share (the post both orders show, a prompt all of its
    sampled rationales continue, ...) appears once. The attention mask lets each token see the
    prefix, its ancestors in the trie and itself, and nothing else; position ids are prefix length +
    depth in the trie. So every row gets exactly the numbers it would get as prefix + row on its own.
    Padding positions see only themselves. Returns (input_ids [G, W], position_ids [G, W], allowed
    [G, 1, W, p + W] bool, reads [rows, k] flat indices g * W + i of each row's last k tokens, rows in
    group then tail order)."""
    import torch
    tries = [_trie([m + t for t in ts]) for m, ts in zip(mids, tails)]
    width = max(len(tokens) for tokens, *_ in tries)
    ids = torch.zeros((len(tries), width), dtype=torch.long)
    pos = torch.full((len(tries), width), p, dtype=torch.long)
    allowed = np.zeros((len(tries), width, p + width), dtype=bool)
    allowed[:, :, :p] = True
    allowed[:, np.arange(width), p + np.arange(width)] = True  # each token (and each padding slot) sees itself
    reads = []
    for g, (tokens, parent, depth, paths) in enumerate(tries):
        ids[g, :len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        pos[g, :len(tokens)] = torch.tensor(depth, dtype=torch.long) + p
        rows = allowed[g]
        for i, up in enumerate(parent):  # a token sees what its parent sees, and itself
            if up >= 0:
                rows[i, p:p + i] = rows[up, p:p + i]
        for path in paths:
            if len(path) < k:
                raise ValueError(f"a row has {len(path)} tokens after the shared prefix, fewer than the {k} to read")
            reads.append([g * width + i for i in path[len(path) - k:]])
    return ids, pos, torch.from_numpy(allowed)[:, None], torch.tensor(reads, dtype=torch.long)


def last_logprobs(model, prefix_ids, cache, mids: list[list[int]], tails: list[list[list[int]]], k: int = 1):
    """Log-softmax over the vocabulary at the last `k` positions of every row. Rows come in groups:
    group g is `prefix_ids` (whose KV `cache` is given) + `mids[g]` (run once for the group) + one of
    `tails[g]`. One forward pass per call (`tree_batch`): the prefix KV is broadcast to the groups
    (`_prefix_kv`), a group's rows share one row of the batch as a token trie (each shared token
    once), padding only up to the largest group, and only the read positions go through the LM
    head. Returns [rows, k, V]."""
    import torch

    p, base = len(prefix_ids), model.base_model
    ids, pos, allowed, reads = tree_batch(p, mids, tails, k)
    mask = _mask(allowed, next(model.parameters()).dtype)
    kw = {_cache_kw(model): _prefix_kv(model, cache)} if p else {}
    device = model.device
    with torch.no_grad():
        hidden = base(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
                      use_cache=bool(p), **kw).last_hidden_state
        head = model.get_output_embeddings()
        hidden = hidden.reshape(-1, hidden.shape[-1])[reads.to(device)]
        logits = head(hidden.to(head.weight.dtype)).float()
        cap = getattr(model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1).cpu()


def _common(rows: list[list[int]], start: int, stop: int) -> int:
    """End of the common token prefix of `rows`, searched in [start, stop)."""
    n = start
    while n < stop and all(r[n] == rows[0][n] for r in rows):
        n += 1
    return n


def _plans(model, tokenizer, prefix: str, fulls: list[str], k: int, store: dict, groups):
    """How to run `fulls` with the shared-prefix cache: [(prefix ids, its KV cache, groups of row
    indices, each group's shared mid, each group's tails)]. See `score_rows`."""
    rows = [encode(tokenizer, f) for f in fulls]
    pre = encode(tokenizer, prefix) if prefix else []
    pre = pre[:_common([pre, rows[0]], 0, min(len(pre), len(rows[0]) - k))]
    ok = [bool(pre) and r[:len(pre)] == pre and len(r) >= len(pre) + k for r in rows]
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
    return [(p, cache, gs, ms, [[rows[i][len(p) + len(m):] for i in g] for g, m in zip(gs, ms)])
            for p, cache, gs, ms in plans if gs]


def score_rows(model, tokenizer, prefix: str, fulls: list[str], k: int = 1, store: dict | None = None,
               groups: list[list[int]] | None = None):
    """[n, k, V] log-probs at the end of complete prompts that start with the text `prefix`.
    Two levels of sharing: (1) the prefix's tokens, cut back to where the first row agrees (a BPE
    may merge across the boundary, e.g. "\n\n" alone vs "\n" "\n" before "Text"), whose KV cache
    is computed once per `store`; (2) within each group of row indices (both orders of one pair),
    their common tokens after it (the post). Rows not starting with the prefix run without cache."""
    import torch
    out = [None] * len(fulls)
    for p, cache, gs, ms, tails in _plans(model, tokenizer, prefix, fulls, k, {} if store is None else store, groups):
        res = last_logprobs(model, p, cache, ms, tails, k)
        for j, i in enumerate(i for g in gs for i in g):
            out[i] = res[j]
    return torch.stack(out)


def _mask(allowed, dtype):
    """An additive attention mask (0 where allowed, the dtype's minimum elsewhere) from a bool one."""
    import torch
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)


def _prefix_kv(model, cache, keep: bool = False):
    """A KV cache over rows that all follow the batch-1 prefix `cache`: each layer attends to the
    prefix (broadcast to the batch, never copied into it) and then the batch's own keys and values,
    which it keeps only if `keep` (to decode after). So a scoring pass holds one layer's keys at a
    time instead of all of them (0.2-0.5 GB less at a batch of 8 SmolLM2 prompts), and decoding
    holds the prefix once, not once per row."""
    import torch
    from transformers import DynamicCache

    class PrefixKV(DynamicCache):
        own: list = []

        def update(self, key_states, value_states, layer_idx, *args, **kwargs):
            layer, n = self.layers[layer_idx], key_states.shape[0]
            if keep:
                if layer_idx < len(self.own):
                    k, v = self.own[layer_idx]
                    key_states, value_states = torch.cat([k, key_states], dim=-2), torch.cat([v, value_states], dim=-2)
                    self.own[layer_idx] = (key_states, value_states)
                else:
                    self.own.append((key_states, value_states))
            return (torch.cat([layer.keys.expand(n, -1, -1, -1), key_states], dim=-2),
                    torch.cat([layer.values.expand(n, -1, -1, -1), value_states], dim=-2))

        def get_seq_length(self, layer_idx: int = 0) -> int:
            own = self.own[layer_idx][0].shape[-2] if layer_idx < len(self.own) else 0
            return self.layers[layer_idx].keys.shape[-2] + own

    kv = PrefixKV(ddp_cache_data=[(layer.keys, layer.values) for layer in cache.layers], config=model.config)
    kv.own = []
    return kv


def sample_continuations(model, tokenizer, prefix: str, fulls: list[str], groups=None, n: int = 1,
                         max_new_tokens: int = 64, temperature: float = 0.0, top_k: int | None = None,
                         seed: int = 0, store: dict | None = None) -> list[list[str]]:
    """`n` continuations of each prompt in `fulls` (greedy at temperature 0, else sampled at
    `temperature` from the `top_k` most likely tokens), up to `max_new_tokens` tokens or the EOS
    token, decoded without special tokens. The prompts go through the model the way `score_rows`
    runs them (shared prefix from `store`, each group's prompts as one token trie, one forward pass),
    each prompt once however many samples it gets; then all continuations of a group decode side by
    side in the group's row, each seeing the prefix, its own prompt and its own tokens. Greedy
    decoding gives the same tokens as `model.generate` on each prompt alone (up to float rounding
    in near-ties)."""
    import torch
    eos = model.generation_config.eos_token_id if model.generation_config is not None else None
    eos = set(eos if isinstance(eos, (list, tuple)) else [] if eos is None else [eos]) or {tokenizer.eos_token_id}
    gen = torch.Generator().manual_seed(seed)
    texts: list[list[str]] = [[] for _ in fulls]
    device, dtype = model.device, next(model.parameters()).dtype
    for p, cache, gs, ms, tails in _plans(model, tokenizer, prefix, fulls, 1, {} if store is None else store, groups):
        ids, pos, allowed, reads = tree_batch(len(p), ms, tails)
        n_groups, width = ids.shape
        q = n * max(map(len, tails))  # decoding columns per group: column j continues the group's prompt j // n
        # what each decoding column sees of the prompt part: what its prompt's last token sees
        seen = torch.zeros((n_groups, q, len(p) + width), dtype=torch.bool)
        col_pos = torch.full((n_groups, q), len(p), dtype=torch.long)
        row_of, prompt_read = {}, []  # (group, column) -> decoding row; each decoding row's read in `reads`
        for r, ((g, t), flat) in enumerate(zip([(g, t) for g, ts in enumerate(tails) for t in range(len(ts))],
                                               reads[:, 0].tolist())):
            for j in range(t * n, (t + 1) * n):
                row_of[(g, j)] = len(row_of)
                prompt_read.append(r)
                seen[g, j] = allowed[g, 0, flat - g * width]
                col_pos[g, j] = pos[g, flat - g * width] + 1
        kv = _prefix_kv(model, cache, keep=True) if len(p) else None
        tokens = {key: [] for key in row_of}
        with torch.no_grad():
            out = model.base_model(input_ids=ids.to(device), attention_mask=_mask(allowed, dtype).to(device),
                                   position_ids=pos.to(device), use_cache=True,
                                   **({_cache_kw(model): kv} if kv is not None else {}))
            kv = getattr(out, "cache", None) or out.past_key_values
            hidden = out.last_hidden_state.reshape(-1, out.last_hidden_state.shape[-1])[reads[:, 0].to(device)]
            hidden = hidden[torch.tensor(prompt_read, device=device)]  # each prompt's state, once per sample
            real = torch.tensor([g * q + j for g, j in row_of])  # decoding columns that hold a prompt, in row order
            finished = set()
            head = model.get_output_embeddings()
            for step in range(max_new_tokens):
                logits = head(hidden.to(head.weight.dtype)).float().cpu()
                if temperature > 0:
                    logits = logits / temperature
                    if top_k:
                        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
                        logits = logits.masked_fill(logits < kth, float("-inf"))
                    nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen)[:, 0]
                else:
                    nxt = logits.argmax(-1)
                for key, r in row_of.items():
                    if key not in finished:
                        tokens[key].append(int(nxt[r]))
                        if int(nxt[r]) in eos:
                            finished.add(key)
                if len(finished) == len(row_of) or step == max_new_tokens - 1:
                    break
                x = torch.zeros((n_groups, q), dtype=torch.long)
                for (g, j), r in row_of.items():
                    x[g, j] = nxt[r]
                # the new column j sees its prompt part, its own earlier tokens and itself
                sees = torch.cat([seen] + [torch.eye(q, dtype=torch.bool).expand(n_groups, q, q)] * (step + 1), dim=-1)
                out = model.base_model(input_ids=x.to(device), attention_mask=_mask(sees[:, None], dtype).to(device),
                                       position_ids=(col_pos + step).to(device), use_cache=True,
                                       **{_cache_kw(model): kv})
                kv = getattr(out, "cache", None) or out.past_key_values
                hidden = out.last_hidden_state.reshape(n_groups * q, -1)[real.to(device)]
        for (g, j), toks in tokens.items():
            texts[gs[g][j // n]].append(tokenizer.decode(toks, skip_special_tokens=True))
    return texts


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
