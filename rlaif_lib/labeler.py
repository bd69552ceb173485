"""The AI labeler (Sec. 2.1): an off-the-shelf LLM turns a pair of summaries into a soft preference.

Prompt = preamble + optional exemplars + the pair + the ending "Preferred Summary=" (Tables 15-17);
the soft label is the softmax over the log-probabilities of the tokens "1" and "2" at the next
position. Every pair is labeled in both orders and the two distributions are averaged (Sec. 2.1.1).
Chain of thought (Sec. 2.1.2) first decodes a rationale, then scores "1" vs "2" after it.

Design decisions (the knobs are in `LabelConfig`):
- Chat template (`chat_template`, default True). PaLM 2 took the raw prompt. SmolLM2-Instruct and the
  GPU presets' labelers are chat models, so the kit sends the paper's prompt (everything above the
  ending) as the user turn and starts the assistant turn with the ending ("Preferred Summary=", or
  "Rationale:" for CoT), so the model answers in the role it was tuned for; `chat_template=False`
  gives the paper's raw prompt. The choice rests on format compliance, not on human labels: on 24
  ToyTLDR pairs, SmolLM2-135M leaves less next-token mass outside "1"/"2" (`other_mass`) with the
  chat rendering (Base 0.71 vs 0.78 raw, Detailed 0.83 vs 0.89; Detailed 1-shot chat 0.20).
- Answer tokens: the ids of "1" and "2" are read off the tokenization of ending + "1", so a byte-level
  BPE ("1" after "=") and a SentencePiece tokenizer ("1" vs "▁1") both get the token the model
  would actually emit there. Anything that is not one token there raises a ValueError.
- Long posts: the post (never a summary) is cut to its first `max_post_tokens` labeler tokens and
  " ..." is appended; the result row says `truncated: true`. The paper capped inputs at 4096 tokens.
- Speed: the shared prefix (preamble + exemplars) is run once and its KV cache is repeated across
  each batch; both orders of a pair go in one batch and share the post too (run once per pair);
  the rest is right-padded and the logit is read at each row's last real token. On 2 CPU cores this
  is ~4x faster than a plain loop (benchmarks/labeling.py) and agrees with it to 1e-5.
- Cache: append-only JSONL, one line per pair {"key", "id", "result"}, flushed and fsynced per batch.
  The key is a sha256 of (labeler, label-relevant config, templates, exemplars, pair texts), so a
  rerun (after kill -9 too) labels only what is missing; a partially written last line is dropped.
"""
from __future__ import annotations

import copy
import dataclasses
import fcntl
import functools
import hashlib
import inspect
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------------------------------------
# Templates, all in one place. Tables 15-17 of the paper (v2); straight ASCII quotes.
# ---------------------------------------------------------------------------------------------
BASE_PREAMBLE = (
    "You are an expert summary rater. Given a piece of text and two of its possible summaries, "
    "output 1 or 2 to indicate which summary is better."
)
_DETAILED_AXES = (
    "A good summary is a shorter piece of text that has the essence of the original. It tries to "
    "accomplish the same purpose and conveys the key information from the original post. Below we "
    "define four evaluation axes for summary quality: coherence, accuracy, coverage, and overall quality.\n\n"
    'Coherence: This axis answers the question "how coherent is the summary on its own?" A summary is '
    "coherent if it's easy to understand when read on its own and free of English errors. A summary is "
    "not coherent if it's difficult to understand what the summary is trying to say. Generally, it's more "
    "important that the summary is understandable than it being free of grammar errors.\n\n"
    'Accuracy: This axis answers the question "does the factual information in the summary accurately '
    "match the post?\" A summary is accurate if it doesn't say things that aren't in the article, it "
    "doesn't mix up people, and generally is not misleading.\n\n"
    'Coverage: This axis answers the question "how well does the summary cover the important information '
    'in the post?" A summary has good coverage if it mentions the main information from the post that\'s '
    "important to understand the situation described in the post. A summary has poor coverage if someone "
    "reading only the summary would be missing several important pieces of information about the "
    "situation in the post. A summary with good coverage should also match the purpose of the original "
    "post (e.g. to ask for advice).\n\n"
    'Overall quality: This axis answers the question "how good is the summary overall at representing '
    'the post?" This can encompass all of the above axes of quality, as well as others you feel are '
    "important. If it's hard to find ways to make the summary better, the overall quality is good. If "
    "there are lots of different ways the summary can be made better, the overall quality is bad.\n\n"
)
DETAILED_PREAMBLE = _DETAILED_AXES + (
    "You are an expert summary rater. Given a piece of text and two of its possible summaries, output 1 "
    "or 2 to indicate which summary best adheres to coherence, accuracy, coverage, and overall quality "
    "as defined above."
)
# CoT preambles ask to "explain" instead of "output 1 or 2" (Table 17). The paper shows the Detailed
# one; the Base one is the same substitution applied to the Base preamble.
DETAILED_COT_PREAMBLE = _DETAILED_AXES + (
    "You are an expert summary rater. Given a piece of text and two of its possible summaries, explain "
    "which summary best adheres to coherence, accuracy, coverage, and overall quality as defined above."
)
BASE_COT_PREAMBLE = (
    "You are an expert summary rater. Given a piece of text and two of its possible summaries, "
    "explain which summary is better."
)
EXAMPLE_HEADER = "»»»» Example »»»»\n"
EXAMPLES_FOOTER = "»»»» Follow the instructions and the example(s) above »»»»\n"
SAMPLE_TEMPLATE = "Text - {text}\nSummary 1 - {summary1}\nSummary 2 - {summary2}\n"
ENDING = "Preferred Summary="
COT_INSTRUCTION = ("Consider the coherence, accuracy, coverage, and overall quality of each summary "
                   "and explain which one is better.\n")
RATIONALE_START = "Rationale:"
# d-RLAIF (Sec. 2.2.2, Appendix D): the preamble verbatim, then the post, "SUMMARY: ", "SCORE: ".
DRLAIF_PREAMBLE = (
    "You are an expert summary rater. Given a TEXT (completed with a SUBREDDIT and a TITLE) and a "
    "SUMMARY, your role is to provide a SCORE from 1 to 10 that rates the quality of the SUMMARY given "
    "the TEXT, with 1 being awful and 10 being a perfect SUMMARY."
)
DRLAIF_TEXT_TEMPLATE = "SUBREDDIT: r/{subreddit}\n\nTITLE: {title}\n\nPOST: {post}\n\n"
DRLAIF_SUMMARY_TEMPLATE = "SUMMARY: {summary}\n\n"
DRLAIF_ENDING = "SCORE: "
_TEMPLATES_SHA = hashlib.sha256(json.dumps([
    BASE_PREAMBLE, DETAILED_PREAMBLE, BASE_COT_PREAMBLE, DETAILED_COT_PREAMBLE, EXAMPLE_HEADER,
    EXAMPLES_FOOTER, SAMPLE_TEMPLATE, ENDING, COT_INSTRUCTION, RATIONALE_START]).encode()).hexdigest()[:12]


@dataclass
class LabelConfig:
    """How to label. Defaults follow the paper where it has one; CoT length is cut for a CPU."""

    preamble: str = "detailed"  # "base" | "detailed" (Table 16)
    shots: int = 0  # number of exemplars (from `select_exemplars`) put before the pair
    cot: bool = False  # two-step chain of thought (Sec. 2.1.2)
    cot_max_tokens: int = 64  # rationale length (paper: 512; 64 keeps a CPU run in minutes)
    self_consistency: int = 1  # rationales per order, distributions averaged (Appendix M)
    temperature: float = 0.0  # rationale decoding; 0 = greedy (paper's best), > 0 samples with top_k
    top_k: int = 40  # paper: top-K sampling with K = 40
    batch_size: int = 8  # pairs per forward pass (each pair = 2 rows, one per order)
    max_post_tokens: int | None = 1024  # posts longer than this are cut (see module notes); None = never
    chat_template: bool = True  # wrap as a chat turn for instruct models (see module notes)

    def key_fields(self) -> dict:
        """The fields that change a label (batch size does not)."""
        d = dataclasses.asdict(self)
        d.pop("batch_size")
        return d


def _preamble(config: LabelConfig) -> str:
    table = {("base", False): BASE_PREAMBLE, ("detailed", False): DETAILED_PREAMBLE,
             ("base", True): BASE_COT_PREAMBLE, ("detailed", True): DETAILED_COT_PREAMBLE}
    if config.preamble not in ("base", "detailed"):
        raise ValueError(f"LabelConfig.preamble must be 'base' or 'detailed', got {config.preamble!r}")
    return table[(config.preamble, config.cot)]


# ---------------------------------------------------------------------------------------------
# Pairs: validation, truncation, prompt text
# ---------------------------------------------------------------------------------------------
REQUIRED_FIELDS = ("id", "post", "summary_a", "summary_b")


def validate_pairs(pairs) -> None:
    """Raise ValueError naming the row, pair id and field for a missing, non-text or empty field."""
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict):
            raise ValueError(f"row {i}: a pair must be a dict, got {type(pair).__name__}")
        for field in REQUIRED_FIELDS:
            value = pair.get(field)
            where = f"pair {pair.get('id')!r} (row {i})"
            if value is None:
                raise ValueError(f"{where}: missing field '{field}'")
            if field != "id" and not isinstance(value, str):
                raise ValueError(f"{where}: field '{field}' must be a string, got {type(value).__name__}")
            if not str(value).strip():
                raise ValueError(f"{where}: empty field '{field}'")


def truncate_post(post: str, tokenizer, max_post_tokens: int | None) -> tuple[str, bool]:
    """Keep the first `max_post_tokens` tokens of a post and mark the cut with " ..."."""
    if max_post_tokens is None:
        return post, False
    ids = tokenizer(post, add_special_tokens=False)["input_ids"]
    if len(ids) <= max_post_tokens:
        return post, False
    return tokenizer.decode(ids[:max_post_tokens]).rstrip() + " ...", True


def _sample(pair: dict, swap: bool) -> str:
    a, b = (pair["summary_b"], pair["summary_a"]) if swap else (pair["summary_a"], pair["summary_b"])
    return SAMPLE_TEMPLATE.format(text=pair["post"].strip(), summary1=a.strip(), summary2=b.strip())


def _head(config: LabelConfig, exemplars) -> str:
    """The part shared by every pair: preamble + the first `config.shots` exemplars (Table 15's layout)."""
    exemplars = list(exemplars)[:config.shots]
    head = _preamble(config) + "\n\n"
    for ex in exemplars:
        thoughts = f"{RATIONALE_START} {ex['rationale'].strip()}\n" if config.cot and ex.get("rationale") else ""
        head += EXAMPLE_HEADER + _sample(ex, False) + thoughts + f"{ENDING}{int(ex['choice']) + 1}\n"
    return head + (EXAMPLES_FOOTER if exemplars else "")


def _wrap(tokenizer, config: LabelConfig, head: str, body: str, answer: str) -> tuple[str, str]:
    """(shared prefix, full prompt). Raw: head + body + answer. Chat: head + body is the user turn and
    the assistant turn starts with `answer`; the prefix is '' if the head cannot be found in it."""
    if not config.chat_template or tokenizer is None or not getattr(tokenizer, "chat_template", None):
        return head, head + body + answer
    user = (head + body).rstrip("\n")
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                             add_generation_prompt=True)
    at = rendered.find(user)
    return (rendered[:at + len(head)] if at >= 0 else ""), rendered + answer


def _render(pair, config, exemplars=(), swap=False, rationale=None, tokenizer=None) -> tuple[str, str]:
    body = _sample(pair, swap)
    if config.cot:
        body += COT_INSTRUCTION
        answer = RATIONALE_START + ("" if rationale is None else rationale.rstrip() + "\n" + ENDING)
    else:
        answer = ENDING
    return _wrap(tokenizer, config, _head(config, exemplars), body, answer)


def build_prompt(pair: dict, config: LabelConfig = LabelConfig(), exemplars=(), swap: bool = False,
                 rationale: str | None = None, tokenizer=None) -> str:
    """The labeling prompt for one pair in one order. With `config.cot` and no `rationale` it ends in
    "...explain which one is better.\\nRationale:" (step 1); with a rationale it ends in the rationale
    and "Preferred Summary=" (step 2). Pass the labeler's tokenizer to get the chat rendering when
    `config.chat_template`; without one this is the paper's raw prompt."""
    return _render(pair, config, exemplars, swap, rationale, tokenizer)[1]


# ---------------------------------------------------------------------------------------------
# Tokens and forward passes
# ---------------------------------------------------------------------------------------------
def _encode(tokenizer, text: str) -> list[int]:
    """Token ids with the tokenizer's special tokens (e.g. BOS), unless the text already starts with
    them (a chat rendering that carries its own BOS)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    special = tokenizer("", add_special_tokens=True)["input_ids"]
    return tokenizer(text)["input_ids"] if special and ids[:len(special)] != special else ids


def _continuation_ids(tokenizer, ending: str, text: str) -> list[int]:
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
        cont = _continuation_ids(tokenizer, prompt_ending, answer)
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


def _prefix_cache(model, prefix_ids: list[int]):
    import torch
    with torch.no_grad():
        out = model.base_model(input_ids=torch.tensor([prefix_ids]), use_cache=True)
    return getattr(out, "cache", None) or out.past_key_values


def _last_logprobs(model, prefix_ids, cache, mids: list[list[int]], tails: list[list[list[int]]], k: int = 1):
    """Log-softmax over the vocabulary at the last `k` positions of every row. Rows come in groups:
    group g is `prefix_ids` (whose KV `cache` is given) + `mids[g]` (run once for the group) + one of
    `tails[g]`. Mids and tails are right-padded; the attention mask hides the padding, position ids
    count real tokens only, and the read positions are each row's own last tokens. Returns [rows, k, V]."""
    import torch
    p, m = len(prefix_ids), max(map(len, mids))
    kw, base = _cache_kw(model), model.base_model
    kv = None
    if p:
        kv = copy.deepcopy(cache)
        kv.batch_repeat_interleave(len(mids))
    with torch.no_grad():
        if m:  # the block each group shares (the post, shown in both orders), once per group
            ids, mask = torch.zeros((len(mids), m), dtype=torch.long), torch.ones((len(mids), p + m), dtype=torch.long)
            for g, x in enumerate(mids):
                ids[g, :len(x)] = torch.tensor(x, dtype=torch.long)
                mask[g, p + len(x):] = 0
            out = base(input_ids=ids, attention_mask=mask, position_ids=torch.arange(p, p + m).expand(len(mids), m),
                       use_cache=True, **({kw: kv} if kv is not None else {}))
            kv = getattr(out, "cache", None) or out.past_key_values
        group = [g for g, ts in enumerate(tails) for _ in ts]
        rows = [t for ts in tails for t in ts]
        if kv is not None:
            kv.batch_select_indices(torch.tensor(group))
        n, s = len(rows), max(map(len, rows))
        ids, mask = torch.zeros((n, s), dtype=torch.long), torch.zeros((n, p + m + s), dtype=torch.long)
        pos = torch.zeros((n, s), dtype=torch.long)
        for r, (g, x) in enumerate(zip(group, rows)):
            ids[r, :len(x)] = torch.tensor(x, dtype=torch.long)
            mask[r, :p + len(mids[g])] = 1
            mask[r, p + m:p + m + len(x)] = 1
            pos[r] = torch.arange(s) + p + len(mids[g])
        hidden = base(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=kv is not None,
                      **({kw: kv} if kv is not None else {})).last_hidden_state
        at = torch.tensor([len(x) for x in rows])[:, None] - k + torch.arange(k)[None]
        logits = model.get_output_embeddings()(hidden[torch.arange(n)[:, None], at]).float()
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


def _score_rows(model, tokenizer, prefix: str, fulls: list[str], k: int = 1, store: dict | None = None,
                groups: list[list[int]] | None = None):
    """[n, k, V] log-probs at the end of complete prompts that start with the text `prefix`.
    Two levels of sharing: (1) the prefix's tokens, cut back to where the first row agrees (a BPE
    may merge across the boundary, e.g. "\n\n" alone vs "\n" "\n" before "Text"), whose KV cache
    is computed once per `store`; (2) within each group of row indices (both orders of one pair),
    their common tokens after it (the post). Rows not starting with the prefix run without cache."""
    import torch
    rows = [_encode(tokenizer, f) for f in fulls]
    pre = _encode(tokenizer, prefix) if prefix else []
    pre = pre[:_common([pre, rows[0]], 0, min(len(pre), len(rows[0]) - k))]
    ok = [bool(pre) and r[:len(pre)] == pre and len(r) >= len(pre) + k for r in rows]
    out, store = [None] * len(rows), {} if store is None else store
    if pre and tuple(pre) not in store and any(ok):
        store[tuple(pre)] = _prefix_cache(model, pre)
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
        res = _last_logprobs(model, p, cache, ms, [[rows[i][len(p) + len(m):] for i in g] for g, m in zip(gs, ms)], k)
        for j, i in enumerate(i for g in gs for i in g):
            out[i] = res[j]
        STATS["cached_rows" if p else "uncached_rows"] += sum(map(len, gs))
    return torch.stack(out)


def _two_way(logprobs, ids) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over the log-probs of "1" and "2" -> probs [n, 2]; other_mass = 1 - P(1) - P(2)."""
    lp = logprobs[:, list(ids)].double()
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
            x = torch.tensor([_encode(tokenizer, prompt)])
            rows.append(torch.log_softmax(model(input_ids=x, logits_to_keep=1).logits[0, -1].float(), -1))
    return _two_way(torch.stack(rows), ids)


@functools.lru_cache(maxsize=2)
def _load(name: str):
    from .models import load_causal_lm
    return load_causal_lm(name)


def _resolve_labeler(labeler):
    """A preset name/folder/hub id (loaded once per process) or a (model, tokenizer) pair."""
    if isinstance(labeler, (tuple, list)):
        model, tokenizer = labeler
        return model, tokenizer, str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
    model, tokenizer = _load(str(labeler))
    return model, tokenizer, str(labeler)


# ---------------------------------------------------------------------------------------------
# Chain of thought
# ---------------------------------------------------------------------------------------------
def _rationales(model, tokenizer, prompts: list[str], config: LabelConfig, seed: int) -> list[list[str]]:
    """Decode `self_consistency` rationales per prompt (greedy at T = 0), cut at the ending if the
    model writes it itself."""
    import torch
    if config.self_consistency > 1 and config.temperature <= 0:
        raise ValueError("self_consistency > 1 needs temperature > 0 (greedy decoding repeats one rationale)")
    rows = [_encode(tokenizer, p) for p in prompts]
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])  # left padding for generation
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    sample = config.temperature > 0
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=config.cot_max_tokens,
                             do_sample=sample, temperature=config.temperature if sample else None,
                             top_k=config.top_k if sample else None, top_p=None,
                             num_return_sequences=config.self_consistency, pad_token_id=pad)
    texts = [tokenizer.decode(o[width:], skip_special_tokens=True).split(ENDING)[0] for o in out]
    n = config.self_consistency
    return [texts[i * n:(i + 1) * n] for i in range(len(prompts))]


# ---------------------------------------------------------------------------------------------
# Labeling with a resumable cache
# ---------------------------------------------------------------------------------------------
def _pair_key(labeler_name: str, config: LabelConfig, exemplars, pair: dict) -> str:
    payload = [labeler_name, config.key_fields(), _TEMPLATES_SHA,
               [[e.get("id"), e["post"], e["summary_a"], e["summary_b"], e["choice"], e.get("rationale")]
                for e in exemplars],
               [str(pair["id"]), pair["post"], pair["summary_a"], pair["summary_b"]]]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class _JsonlCache:
    """Append-only JSONL of {"key", "id", "result"}; one writer at a time (flock)."""

    def __init__(self, path):
        self.path, self.done = Path(path), {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+b")
        fcntl.flock(self.file, fcntl.LOCK_EX)
        self.file.seek(0)
        data = self.file.read()
        if data and not data.endswith(b"\n"):  # a run killed mid-write: drop the partial last line
            self.file.truncate(data.rfind(b"\n") + 1)
            data = data[:data.rfind(b"\n") + 1]
        for line in data.splitlines():
            try:
                rec = json.loads(line)
                self.done[rec["key"]] = rec["result"]
            except (ValueError, KeyError, TypeError):
                continue  # unreadable line: that pair is labeled again
        self.file.seek(0, os.SEEK_END)

    def add(self, records: list[dict]) -> None:
        self.file.write("".join(json.dumps(r) + "\n" for r in records).encode())
        self.file.flush()
        os.fsync(self.file.fileno())
        for r in records:
            self.done[r["key"]] = r["result"]

    def close(self):
        self.file.close()


def _label_batch(model, tokenizer, batch: list[dict], config, exemplars, ids, seed, store) -> list[dict]:
    """Label a batch of (already truncated) pairs, both orders in one forward pass."""
    orders = [(p, swap) for p in batch for swap in (False, True)]
    rationales = None
    if config.cot:
        step1 = [_render(p, config, exemplars, s, None, tokenizer)[1] for p, s in orders]
        rationales = _rationales(model, tokenizer, step1, config, seed)
    n_sc = config.self_consistency if config.cot else 1
    prefix, fulls = None, []
    for j, (p, s) in enumerate(orders):
        for r in (rationales[j] if config.cot else [None]):
            prefix, full = _render(p, config, exemplars, s, r, tokenizer)
            fulls.append(full)
    groups = [list(range(i * 2 * n_sc, (i + 1) * 2 * n_sc)) for i in range(len(batch))]  # a pair's rows
    probs, other = _two_way(_score_rows(model, tokenizer, prefix, fulls, store=store, groups=groups)[:, -1], ids)
    probs = probs.reshape(len(batch), 2, n_sc, 2).mean(axis=2)  # self-consistency: average distributions
    other = other.reshape(len(batch), 2 * n_sc).mean(axis=1)
    out = []
    for i, pair in enumerate(batch):
        ab, ba = probs[i, 0], probs[i, 1]  # ba is in shown order: ba[0] = P(b shown first is better)
        first_ab, first_ba = ab[0] >= ab[1], ba[0] >= ba[1]
        same = bool(first_ab == first_ba)
        row = {"id": pair["id"], "p_a": float((ab[0] + ba[1]) / 2), "probs_ab": [float(x) for x in ab],
               "probs_ba": [float(x) for x in ba], "other_mass": float(other[i]), "same_position": same,
               "position": ("first" if first_ab else "second") if same else None,
               "truncated": pair["_truncated"]}
        if config.cot:
            row["rationales"] = {"ab": rationales[2 * i], "ba": rationales[2 * i + 1]}
        out.append(row)
    return out


def label_pairs(pairs: list[dict], labeler="smollm2-135m-instruct", config: LabelConfig = LabelConfig(),
                exemplars=(), cache_path=None, progress: bool = True) -> list[dict]:
    """Soft AI labels for `pairs`, in input order. Each row: {"id", "p_a" (P(summary_a better),
    averaged over both orders), "probs_ab", "probs_ba" ([P(1), P(2)] as shown), "other_mass",
    "same_position", "position" ("first"/"second" when same_position), "truncated", and "rationales"
    {"ab": [...], "ba": [...]} with CoT}. `labeler` is a preset name, folder or hub id, or a
    (model, tokenizer) pair. With `cache_path`, finished pairs are read back and never relabeled."""
    validate_pairs(pairs)
    shots = list(exemplars)[:config.shots]
    if len(shots) < config.shots:
        raise ValueError(f"config.shots={config.shots} needs that many exemplars; got {len(shots)}. "
                         "Use select_exemplars(training_pairs, k, seed).")
    validate_pairs(shots)
    used = {str(p["id"]) for p in pairs} | {p["post"].strip() for p in pairs}
    for ex in shots:
        if str(ex["id"]) in used or ex["post"].strip() in used or ex.get("choice") not in (0, 1):
            raise ValueError(f"exemplar {ex['id']!r} is one of the labeled pairs (or its post), or has no "
                             "human choice 0/1: exemplars must come from a separate training split.")
    model, tokenizer, name = _resolve_labeler(labeler)
    ids = answer_token_ids(tokenizer)
    shots = [dict(e, post=truncate_post(e["post"], tokenizer, config.max_post_tokens)[0]) for e in shots]
    keys = [_pair_key(name, config, shots, p) for p in pairs]
    cache = _JsonlCache(cache_path) if cache_path else None
    done = dict(cache.done) if cache else {}
    todo, seen = [], set()
    for key, pair in zip(keys, pairs):
        if key not in done and key not in seen:
            seen.add(key)
            post, cut = truncate_post(pair["post"], tokenizer, config.max_post_tokens)
            todo.append((key, dict(pair, post=post, _truncated=cut)))
    todo.sort(key=lambda kp: len(kp[1]["post"]) + len(kp[1]["summary_a"]) + len(kp[1]["summary_b"]))
    bar, store = None, {}
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(set(keys)), initial=len(set(keys)) - len(todo), desc="AI labels", unit="pair")
    try:
        for start in range(0, len(todo), config.batch_size):
            chunk = todo[start:start + config.batch_size]
            seed = int(chunk[0][0][:8], 16)
            rows = _label_batch(model, tokenizer, [p for _, p in chunk], config, shots, ids, seed, store)
            records = [{"key": k, "id": str(p["id"]), "result": r} for (k, p), r in zip(chunk, rows)]
            if cache:
                cache.add(records)
            done.update({r["key"]: r["result"] for r in records})
            if bar:
                bar.update(len(chunk))
    finally:
        if bar:
            bar.close()
        if cache:
            cache.close()
    return [dict(done[k], id=p["id"]) for k, p in zip(keys, pairs)]


def select_exemplars(pairs_with_human_choice: list[dict], k: int, seed: int = 0) -> list[dict]:
    """k few-shot exemplars from a TRAINING split: among the most confident human choices (ties
    broken by `seed`), distinct subreddits where possible, and the shown answer balanced between "1" and "2" (a pair is swapped
    when needed, so the exemplars do not teach a position)."""
    pool = [p for p in pairs_with_human_choice if p.get("choice") in (0, 1)]
    validate_pairs(pool)
    if len(pool) < k:
        raise ValueError(f"need {k} pairs with a human 'choice', found {len(pool)}")
    conf = lambda p: float(p.get("confidence") or 0)  # noqa: E731
    random.Random(seed).shuffle(pool)
    pool.sort(key=conf, reverse=True)
    pool = [p for p in pool if conf(p) >= conf(pool[k - 1])] if k else []  # the k most confident, and ties
    picked: list[dict] = []
    for distinct in (True, False):  # distinct subreddits first (a range of topics), then fill up
        for p in pool:
            taken = any(p is q for q in picked) or (distinct and p.get("subreddit") in {q.get("subreddit") for q in picked})
            if len(picked) < k and not taken:
                picked.append(p)
    out = []
    for i, p in enumerate(picked):
        want = i % 2  # alternate shown answers 1, 2, 1, ...
        ex = dict(p)
        if ex["choice"] != want:
            ex.update(summary_a=p["summary_b"], summary_b=p["summary_a"], choice=want, swapped=True)
        out.append(ex)
    return out


# ---------------------------------------------------------------------------------------------
# Direct RLAIF (Sec. 2.2.2): the labeler's 1-10 score of one summary as the RL reward
# ---------------------------------------------------------------------------------------------
def _score_tokens(tokenizer, ending: str):
    """How "1".."10" appear after `ending`: (ending actually used, text before a digit, ids of "1".."9"
    (+ "10" if it is one token), id of "0" when "10" is "1" then "0", else None). If the ending's
    trailing space would merge into the digit (GPT-2 style " 7"), it moves from the ending to the answer."""
    sep = ""
    try:
        conts = [_continuation_ids(tokenizer, ending, str(s)) for s in range(1, 11)]
    except ValueError:
        if not ending.endswith(" "):
            raise
        ending, sep = ending.rstrip(" "), " "
        conts = [_continuation_ids(tokenizer, ending, f" {s}") for s in range(1, 11)]
    if any(len(c) != 1 for c in conts[:9]):
        raise ValueError(f"scores 1-9 are not single tokens after {ending!r}: {conts[:9]}")
    if len(conts[9]) == 1:
        return ending, sep, [c[0] for c in conts], None
    if len(conts[9]) == 2 and conts[9][0] == conts[0][0]:
        return ending, sep, [c[0] for c in conts[:9]], conts[9][1]
    raise ValueError(f"'10' after {ending!r} is {conts[9]}: expected one token or '1' then '0'")


def parse_tldr_prompt(prompt: str) -> dict:
    """{subreddit, title, post} from a TL;DR-format prompt ("SUBREDDIT: r/...\\n\\nTITLE: ...\\n\\nPOST:
    ...\\n\\nTL;DR:"); anything else is taken as the post itself."""
    m = re.match(r"\s*SUBREDDIT: r/(.*?)\n+TITLE: (.*?)\n+POST: (.*?)\s*TL;DR:\s*$", prompt, re.S)
    if m:
        return {"subreddit": m[1].strip(), "title": m[2].strip(), "post": m[3].strip()}
    return {"subreddit": "", "title": "", "post": re.sub(r"\s*TL;DR:\s*$", "", prompt).strip()}


def dscore(labeler, posts: list[dict], summaries: list[str], config: LabelConfig = LabelConfig()) -> np.ndarray:
    """Expected score s = sum_i i * P(i), i = 1..10, of each summary of its post (dicts with "post",
    optional "title"/"subreddit"); P is renormalised over the ten scores. SmolLM2 writes "10" as "1"
    then "0": one forward pass with "1" appended reads both P("1") and P("0" | "1"), and
    P(10) = P("1") P("0"|"1"), P(1) = P("1") (1 - P("0"|"1"))."""
    import torch
    model, tokenizer, _ = _resolve_labeler(labeler)
    ending, sep, ids, zero = _score_tokens(tokenizer, DRLAIF_ENDING)
    fulls, prefix = [], ""
    for post, summary in zip(posts, summaries):
        text, _ = truncate_post(post["post"], tokenizer, config.max_post_tokens)
        body = DRLAIF_TEXT_TEMPLATE.format(subreddit=(post.get("subreddit") or "").strip(), post=text.strip(),
                                           title=(post.get("title") or "").strip())
        body += DRLAIF_SUMMARY_TEMPLATE.format(summary=summary.strip())
        prefix, full = _wrap(tokenizer, config, DRLAIF_PREAMBLE + "\n\n", body, ending)
        fulls.append(full + (sep + "1" if zero is not None else ""))
    k = 1 if zero is None else 2
    scores, store = [], {}
    for start in range(0, len(fulls), 2 * config.batch_size):
        chunk = list(range(start, min(start + 2 * config.batch_size, len(fulls))))
        same_post: dict = {}  # RL scores several completions per prompt: their post is run once
        for i in chunk:
            same_post.setdefault(json.dumps(posts[i], sort_keys=True), []).append(i - start)
        lp = _score_rows(model, tokenizer, prefix, [fulls[i] for i in chunk], k, store, list(same_post.values())).double()
        p = lp[:, 0, ids].exp()
        if zero is not None:
            p_zero = lp[:, 1, zero].exp()
            p = torch.cat([p[:, :1] * (1 - p_zero[:, None]), p[:, 1:], p[:, :1] * p_zero[:, None]], dim=1)
        p = p / p.sum(-1, keepdim=True)
        scores.append((p * torch.arange(1, 11, dtype=p.dtype)).sum(-1))
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


# ---------------------------------------------------------------------------------------------
# Baselines (same row shape as label_pairs): longer-wins, random, MiniLM similarity
# ---------------------------------------------------------------------------------------------
def _rows(pairs, p_as, name: str) -> list[dict]:
    validate_pairs(pairs)
    return [{"id": p["id"], "p_a": float(x), "probs_ab": [float(x), 1 - float(x)], "probs_ba": [1 - float(x), float(x)],
             "other_mass": 0.0, "same_position": False, "position": None, "labeler": name}
            for p, x in zip(pairs, p_as)]


def length_labeler(pairs) -> list[dict]:
    """"The longer summary wins" (characters); equal lengths give 0.5."""
    return _rows(pairs, [float(np.sign(len(p["summary_a"].strip()) - len(p["summary_b"].strip())) + 1) / 2
                         for p in pairs], "longer-wins")


def random_labeler(pairs, seed: int = 0) -> list[dict]:
    """A coin flip per pair (hard labels): alignment ~ 50% by construction."""
    rng = np.random.default_rng(seed)
    return _rows(pairs, rng.integers(0, 2, size=len(pairs)).astype(float), "random")


def embedding_labeler(pairs, temperature: float = 0.05, batch_size: int = 32) -> list[dict]:
    """MiniLM (all-MiniLM-L6-v2, mean pooling, 256-token inputs as it was trained): p_a =
    sigmoid((cos(post, a) - cos(post, b)) / temperature), i.e. a softmax over the two similarities."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from .models import minilm_path

    validate_pairs(pairs)
    tok, enc = AutoTokenizer.from_pretrained(minilm_path()), AutoModel.from_pretrained(minilm_path()).eval()

    def embed(texts):
        out = []
        for i in range(0, len(texts), batch_size):
            x = tok(texts[i:i + batch_size], padding=True, truncation=True, max_length=256, return_tensors="pt")
            with torch.no_grad():
                h = enc(**x).last_hidden_state
            m = x["attention_mask"][..., None].float()
            out.append(torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1))
        return torch.cat(out)

    post, a, b = (embed([p[f] for p in pairs]) for f in ("post", "summary_a", "summary_b"))
    margin = ((post * a).sum(-1) - (post * b).sum(-1)) / temperature
    return _rows(pairs, torch.sigmoid(margin).tolist(), "minilm-cosine")


# ---------------------------------------------------------------------------------------------
# Metrics: alignment with human choices (Sec. 2.3) and position bias (Table 4)
# ---------------------------------------------------------------------------------------------
def alignment(labels, pairs, min_confidence=None, n_boot: int = 1000, seed: int = 0) -> dict:
    """Share of pairs where argmax of the AI soft label agrees with the human choice (0 = summary_a),
    {value, ci_low, ci_high, n} with a bootstrap 95% interval. A tie (p_a = 0.5) counts 1/2. With
    `min_confidence`, only pairs whose human confidence is >= it count (the paper: high confidence)."""
    from .stats import bootstrap_mean

    if [str(x["id"]) for x in labels] == [str(p["id"]) for p in pairs]:
        matched = list(zip(labels, pairs))
    else:
        by_id = {str(x["id"]): x for x in labels}
        missing = [p["id"] for p in pairs if str(p["id"]) not in by_id]
        if missing:
            raise KeyError(f"no label for pairs {missing[:5]}")
        matched = [(by_id[str(p["id"])], p) for p in pairs]
    scores = []
    for label, pair in matched:
        if pair.get("choice") not in (0, 1):
            continue
        if min_confidence is not None and (pair.get("confidence") is None or pair["confidence"] < min_confidence):
            continue
        p_a = label["p_a"]
        scores.append(0.5 if p_a == 0.5 else float((p_a > 0.5) == (pair["choice"] == 0)))
    return bootstrap_mean(scores, n_boot=n_boot, seed=seed)


def position_bias(labels) -> dict:
    """Table 4: % of pairs whose preferred POSITION is the same after the swap, and of those the % that
    preferred the first / second position; plus the % of all calls (both orders) that chose "1"."""
    rows = [x for x in labels if "probs_ab" in x and "same_position" in x]
    n = len(rows)
    same = [x for x in rows if x["same_position"]]
    first = sum(x["position"] == "first" for x in same)
    calls_first = sum((x["probs_ab"][0] >= x["probs_ab"][1]) + (x["probs_ba"][0] >= x["probs_ba"][1]) for x in rows)
    pct = lambda a, b: 100.0 * a / b if b else float("nan")  # noqa: E731
    return {"same_position_pct": pct(len(same), n), "first_pct": pct(first, len(same)),
            "second_pct": pct(len(same) - first, len(same)), "calls_first_pct": pct(calls_first, 2 * n), "n": n}
