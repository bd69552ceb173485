"""The labeling prompt (Sec. 2.1, Tables 15-17): templates, `LabelConfig`, and `build_prompt`.

Prompt = preamble + optional exemplars + the pair + the ending "Preferred Summary=". With chain of
thought (Sec. 2.1.2) the first step ends in "Rationale:" and the second step in the rationale and
the ending.

Design decisions (the knobs are in `LabelConfig`):
- Chat template (`chat_template`, default True). PaLM 2 took the raw prompt. SmolLM2-Instruct and the
  GPU presets' labelers are chat models, so the kit sends the paper's prompt (everything above the
  ending) as the user turn and starts the assistant turn with the ending ("Preferred Summary=", or
  "Rationale:" for CoT), so the model answers in the role it was tuned for; `chat_template=False`
  gives the paper's raw prompt. The choice rests on format compliance, not on human labels: on 24
  ToyTLDR pairs, SmolLM2-135M leaves less next-token mass outside "1"/"2" (`other_mass`) with the
  chat rendering (Base 0.71 vs 0.78 raw, Detailed 0.83 vs 0.89; Detailed 1-shot chat 0.20).
- Long posts: the post (never a summary) is cut to its first `max_post_tokens` labeler tokens and
  " ..." is appended; the result row says `truncated: true`. The paper capped inputs at 4096 tokens.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

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
TEMPLATES_SHA = hashlib.sha256(json.dumps([
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
    batch_size: int | None = 8  # pairs per forward pass (each pair = 2 rows); None = the device policy's
    # suggestion (device.BATCH_SIZES: 8 on CPU, more on a GPU)
    use_vllm: bool = False  # score "1"/"2" with vLLM (GPU, `vllm` installed, no CoT); else transformers
    max_post_tokens: int | None = 1024  # posts longer than this are cut (see module notes); None = never
    chat_template: bool = True  # wrap as a chat turn for instruct models (see module notes)

    def key_fields(self) -> dict:
        """The fields that change a label (batch size and the scoring backend do not: they change
        only float rounding)."""
        d = dataclasses.asdict(self)
        d.pop("batch_size")
        d.pop("use_vllm")
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


def wrap_prompt(tokenizer, config: LabelConfig, head: str, body: str, answer: str) -> tuple[str, str]:
    """(shared prefix, full prompt). Raw: head + body + answer. Chat: head + body is the user turn and
    the assistant turn starts with `answer`; the prefix is '' if the head cannot be found in it."""
    if not config.chat_template or tokenizer is None or not getattr(tokenizer, "chat_template", None):
        return head, head + body + answer
    user = (head + body).rstrip("\n")
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                             add_generation_prompt=True)
    at = rendered.find(user)
    return (rendered[:at + len(head)] if at >= 0 else ""), rendered + answer


def render_prompt(pair, config, exemplars=(), swap=False, rationale=None, tokenizer=None) -> tuple[str, str]:
    """(shared prefix, full prompt) of one pair in one order: what `build_prompt` returns, plus the
    prefix every pair shares (preamble + exemplars), whose KV cache the scoring engine reuses."""
    body = _sample(pair, swap)
    if config.cot:
        body += COT_INSTRUCTION
        answer = RATIONALE_START + ("" if rationale is None else rationale.rstrip() + "\n" + ENDING)
    else:
        answer = ENDING
    return wrap_prompt(tokenizer, config, _head(config, exemplars), body, answer)


def build_prompt(pair: dict, config: LabelConfig = LabelConfig(), exemplars=(), swap: bool = False,
                 rationale: str | None = None, tokenizer=None) -> str:
    """The labeling prompt for one pair in one order. With `config.cot` and no `rationale` it ends in
    "...explain which one is better.\\nRationale:" (step 1); with a rationale it ends in the rationale
    and "Preferred Summary=" (step 2). Pass the labeler's tokenizer to get the chat rendering when
    `config.chat_template`; without one this is the paper's raw prompt."""
    return render_prompt(pair, config, exemplars, swap, rationale, tokenizer)[1]

