"""The AI labeler (Sec. 2.1): prompts as in the paper's tables, answer tokens, the fast path against a
plain forward pass, a resumable cache that survives kill -9, bad rows, metrics and d-RLAIF."""
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rlaif_lib.method import labeling as L
from rlaif_lib.method.labeling import baselines, direct, prompts, scoring
from rlaif_lib.method.labeling.cache import LabelCache, pair_key
from rlaif_lib.models import SMOLLM2
from rlaif_lib.tldr import parse_tldr_prompt

ROOT = Path(__file__).resolve().parents[1]

PAIRS = [
    {"id": "q1", "post": "My roommate keeps eating my food from the fridge even after I asked her twice to stop. "
                         "How do I bring it up again without a fight?",
     "summary_a": "Roommate keeps eating my food after I asked her to stop; how to raise it calmly?",
     "summary_b": "Food.", "choice": 0, "confidence": 9},
    {"id": "q2", "post": "I (24F) got a job offer in another city that pays 30% more, but my boyfriend (26M) of "
                         "three years does not want to move. Should I take it?",
     "summary_a": "Boyfriend is fine.", "summary_b": "Better-paid job in another city; boyfriend of 3 years won't move.",
     "choice": 1, "confidence": 8},
    {"id": "q3", "post": "My dog barks at everyone walking past our window and the neighbors complained. Treats "
                         "did not help. Any training tips?",
     "summary_a": "Dog barks at passers-by, neighbors complain, treats failed; tips?",
     "summary_b": "Dog barks a lot.", "choice": 0, "confidence": 3},
]
TRAIN = [
    {"id": "t1", "post": "My sister borrowed my car and returned it with an empty tank again. Should I say something?",
     "summary_a": "Sister keeps returning my car with an empty tank; should I speak up?", "summary_b": "Car.",
     "choice": 0, "confidence": 9, "subreddit": "family"},
    {"id": "t2", "post": "My coworker takes credit for my ideas in meetings. What should I do?",
     "summary_a": "Work.", "summary_b": "Coworker takes credit for my ideas in meetings; what to do?",
     "choice": 1, "confidence": 9, "subreddit": "work"},
    {"id": "t3", "post": "A friend never pays me back for lunches. Is it petty to ask?",
     "summary_a": "Friend never repays lunches; petty to ask?", "summary_b": "Lunch money.",
     "choice": 0, "confidence": 4, "subreddit": "friends"},
    {"id": "t4", "post": "No human choice for this one.", "summary_a": "x", "summary_b": "y"},
]


@pytest.fixture
def scored_rows(monkeypatch):
    """Counts of prompt rows the labeling engine scores, with and without the shared-prefix KV cache."""
    from rlaif_lib.method.labeling import scoring

    counts, forward = {"cached": 0, "uncached": 0}, scoring.last_logprobs

    def counting(model, prefix, cache, mids, tails, k):
        counts["cached" if prefix else "uncached"] += sum(map(len, tails))
        return forward(model, prefix, cache, mids, tails, k)

    monkeypatch.setattr(scoring, "last_logprobs", counting)
    return counts


@pytest.fixture(scope="module")
def smol():
    return L.load_labeler(SMOLLM2)[:2]


def raw(**kw):
    return L.LabelConfig(chat_template=False, **kw)


# ------------------------------------------------------------------------------------------- prompts

def test_base_prompt_is_the_papers_layout():
    p = PAIRS[0]
    expected = (L.BASE_PREAMBLE + "\n\n" + f"Text - {p['post']}\nSummary 1 - {p['summary_a']}\n"
                f"Summary 2 - {p['summary_b']}\nPreferred Summary=")
    assert L.build_prompt(p, raw(preamble="base")) == expected
    assert L.BASE_PREAMBLE == ("You are an expert summary rater. Given a piece of text and two of its possible "
                               "summaries, output 1 or 2 to indicate which summary is better.")
    swapped = L.build_prompt(p, raw(preamble="base"), swap=True)
    assert f"Summary 1 - {p['summary_b']}\nSummary 2 - {p['summary_a']}\n" in swapped


def test_detailed_preamble_and_exemplars():
    d = L.DETAILED_PREAMBLE
    assert d.startswith("A good summary is a shorter piece of text that has the essence of the original.")
    for axis in ("Coherence: This axis answers", "Accuracy: This axis answers", "Coverage: This axis answers",
                 "Overall quality: This axis answers"):
        assert axis in d
    assert d.endswith("output 1 or 2 to indicate which summary best adheres to coherence, accuracy, coverage, "
                      "and overall quality as defined above.")
    ex = L.select_exemplars(TRAIN, 2, seed=0)
    prompt = L.build_prompt(PAIRS[0], raw(shots=2), exemplars=ex)
    block = (f"»»»» Example »»»»\nText - {ex[0]['post']}\nSummary 1 - {ex[0]['summary_a']}\n"
             f"Summary 2 - {ex[0]['summary_b']}\nPreferred Summary=1\n»»»» Example »»»»\n")
    assert d + "\n\n" + block in prompt
    assert ("Preferred Summary=2\n»»»» Follow the instructions and the example(s) above »»»»\n"
            f"Text - {PAIRS[0]['post']}\n") in prompt
    assert prompt.endswith("Preferred Summary=")


def test_cot_prompts_two_steps():
    cfg = raw(cot=True)
    step1 = L.build_prompt(PAIRS[0], cfg)
    assert step1.startswith(prompts.DETAILED_COT_PREAMBLE)
    assert "explain which summary best adheres to coherence" in prompts.DETAILED_COT_PREAMBLE
    assert step1.endswith(f"Summary 2 - {PAIRS[0]['summary_b']}\nConsider the coherence, accuracy, coverage, and "
                          "overall quality of each summary and explain which one is better.\nRationale:")
    step2 = L.build_prompt(PAIRS[0], cfg, rationale=" Summary 1 is better. ")
    assert step2 == step1 + " Summary 1 is better.\nPreferred Summary="


def test_chat_rendering_puts_the_ending_in_the_assistant_turn(smol):
    _, tok = smol
    paper = L.build_prompt(PAIRS[0], raw())
    chat = L.build_prompt(PAIRS[0], L.LabelConfig(), tokenizer=tok)
    assert paper[: -len("Preferred Summary=")].rstrip("\n") in chat
    assert chat.endswith("<|im_end|>\n<|im_start|>assistant\nPreferred Summary=")


# ------------------------------------------------------------------------------------- answer tokens

def test_answer_tokens_smollm2(smol):
    _, tok = smol
    assert scoring.answer_token_ids(tok) == tuple(tok.convert_tokens_to_ids(["1", "2"]))


def _sentencepiece_like(extra=()):
    """A tiny Unigram tokenizer with SentencePiece's "▁" word marker, built locally."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pieces = ["<unk>", "▁Preferred", "▁Summary", "=", "1", "2", "▁1", "▁2", "▁", *extra]
    pieces += [c for c in "abcdefghijklmnopqrstuvwxyzPS" if c not in pieces]
    tok = Tokenizer(models.Unigram([(p, 0.0 if p == "<unk>" else -1.0) for p in pieces], unk_id=0))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")


def test_answer_tokens_sentencepiece_style():
    tok = _sentencepiece_like()
    vocab = tok.get_vocab()
    assert tok("1", add_special_tokens=False)["input_ids"] == [vocab["▁1"]]  # the naive lookup is wrong
    assert scoring.answer_token_ids(tok) == (vocab["1"], vocab["2"])  # after "=" the model emits "1", not "▁1"


def test_answer_tokens_wordpiece_minilm():
    from transformers import AutoTokenizer

    from rlaif_lib.models import minilm_path

    tok = AutoTokenizer.from_pretrained(minilm_path())
    assert scoring.answer_token_ids(tok) == tuple(tok.convert_tokens_to_ids(["1", "2"]))


def test_answer_tokens_merged_into_ending_raise():
    tok = _sentencepiece_like(extra=("=1", "=2"))
    with pytest.raises(ValueError, match="not a separate token"):
        scoring.answer_token_ids(tok)


# ------------------------------------------------------------------------- fast path == plain forward

@pytest.mark.parametrize("cfg", [L.LabelConfig(shots=1, batch_size=2), raw(preamble="base", batch_size=3)],
                         ids=["chat-detailed-1shot", "raw-base-0shot"])
def test_cached_batched_path_matches_plain_forward(smol, cfg, scored_rows):
    model, tok = smol
    ex = L.select_exemplars(TRAIN, 1, seed=0)
    labels = L.label_pairs(PAIRS, smol, cfg, exemplars=ex, progress=False)
    assert scored_rows == {"cached": 2 * len(PAIRS), "uncached": 0}  # every row ran on the shared-prefix cache
    prompts = [L.build_prompt(p, cfg, ex, swap=s, tokenizer=tok) for p in PAIRS for s in (False, True)]
    probs, other = L.soft_label(model, tok, prompts)
    for i, row in enumerate(labels):
        assert row["id"] == PAIRS[i]["id"]
        np.testing.assert_allclose(row["probs_ab"], probs[2 * i], atol=1e-4)
        np.testing.assert_allclose(row["probs_ba"], probs[2 * i + 1], atol=1e-4)
        assert row["other_mass"] == pytest.approx((other[2 * i] + other[2 * i + 1]) / 2, abs=1e-4)
        # both-orders averaging: P(a) is P(1) in order (a, b) and P(2) in order (b, a)
        assert row["p_a"] == pytest.approx((probs[2 * i][0] + probs[2 * i + 1][1]) / 2, abs=1e-4)
        first_ab, first_ba = probs[2 * i][0] >= probs[2 * i][1], probs[2 * i + 1][0] >= probs[2 * i + 1][1]
        assert row["same_position"] == (first_ab == first_ba)
        assert row["position"] == (("first" if first_ab else "second") if first_ab == first_ba else None)


def test_tree_batch_layout():
    """Two groups behind a 3-token prefix: group 0 = mid [5, 6] + tails [7, 8] and [9]; group 1 = no mid +
    tail [4]. Each tail sees the prefix, its mid and itself, never its sibling; positions restart."""
    ids, pos, allowed, reads = scoring.tree_batch(3, [[5, 6], []], [[[7, 8], [9]], [[4]]])
    assert ids.tolist() == [[5, 6, 7, 8, 9], [4, 0, 0, 0, 0]]
    assert pos.tolist() == [[3, 4, 5, 6, 5], [3, 3, 3, 3, 3]]
    a = allowed[:, 0].int().tolist()
    #                 prefix   mid    tail 1  tail 2
    assert a[0] == [[1, 1, 1, 1, 0, 0, 0, 0],   # mid token 1
                    [1, 1, 1, 1, 1, 0, 0, 0],   # mid token 2
                    [1, 1, 1, 1, 1, 1, 0, 0],   # tail 1, token 1
                    [1, 1, 1, 1, 1, 1, 1, 0],   # tail 1, token 2
                    [1, 1, 1, 1, 1, 0, 0, 1]]   # tail 2 sees the mid, not tail 1
    assert a[1][0] == [1, 1, 1, 1, 0, 0, 0, 0] and a[1][3] == [1, 1, 1, 0, 0, 0, 1, 0]  # padding sees itself only
    assert reads.tolist() == [[3], [4], [5]]  # each tail's last token, flat over [groups * width]
    assert scoring.tree_batch(0, [[1]], [[[2, 3]]], k=2)[3].tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="fewer than"):
        scoring.tree_batch(0, [[]], [[[2]]], k=2)
    # shared tokens anywhere are stored once: rows [1, 2, 3], [1, 2, 4], [1, 5] -> trie 1 (2 (3, 4), 5)
    ids, pos, allowed, reads = scoring.tree_batch(0, [[]], [[[1, 2, 3], [1, 2, 4], [1, 5]]])
    assert ids.tolist() == [[1, 2, 3, 4, 5]] and pos.tolist() == [[0, 1, 2, 2, 1]] and reads.tolist() == [[2], [3], [4]]
    assert allowed[0, 0].int().tolist() == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 0, 1, 0],
                                            [1, 0, 0, 0, 1]]


def test_sample_continuations_greedy_matches_generate(smol):
    """Rationale decoding with the shared prefix and the post once per pair gives, greedily, the tokens
    `generate` gives each prompt alone; sampled with top-k 1 every one of n samples is that text too."""
    import torch

    model, tok = smol
    cfg = raw(preamble="base", cot=True)
    rendered = [prompts.render_prompt(p, cfg, (), s, None, tok) for p in PAIRS[:2] for s in (False, True)]
    fulls, groups = [f for _, f in rendered], [[0, 1], [2, 3]]
    got = scoring.sample_continuations(model, tok, rendered[0][0], fulls, groups, max_new_tokens=6)
    for full, texts in zip(fulls, got):
        x = torch.tensor([scoring.encode(tok, full)])
        with torch.no_grad():
            out = model.generate(input_ids=x, max_new_tokens=6, do_sample=False, pad_token_id=tok.pad_token_id)
        assert texts == [tok.decode(out[0, x.shape[1]:], skip_special_tokens=True)]
    k1 = scoring.sample_continuations(model, tok, rendered[0][0], fulls, groups, n=3, max_new_tokens=6,
                                      temperature=1.0, top_k=1, seed=1)
    assert k1 == [t * 3 for t in got]
    s = [scoring.sample_continuations(model, tok, rendered[0][0], fulls, groups, n=2, max_new_tokens=6,
                                      temperature=1.0, top_k=40, seed=7) for _ in range(2)]
    assert s[0] == s[1] and all(len(t) == 2 for t in s[0])  # seeded: the same samples again


def test_averaging_and_position_on_known_distributions():
    rows = baselines._rows([PAIRS[0]], [0.8], "x")  # baseline rows: order-free labels
    assert rows[0]["probs_ab"] == [0.8, pytest.approx(0.2)] and rows[0]["probs_ba"] == [pytest.approx(0.2), 0.8]
    # position bias on hand-made LLM rows: (ab, ba) -> same position?
    made = [{"probs_ab": [0.9, 0.1], "probs_ba": [0.7, 0.3], "same_position": True, "position": "first"},
            {"probs_ab": [0.2, 0.8], "probs_ba": [0.4, 0.6], "same_position": True, "position": "second"},
            {"probs_ab": [0.6, 0.4], "probs_ba": [0.3, 0.7], "same_position": False, "position": None},
            {"probs_ab": [0.8, 0.2], "probs_ba": [0.9, 0.1], "same_position": True, "position": "first"}]
    pb = L.position_bias(made)
    assert pb == {"same_position_pct": 75.0, "first_pct": pytest.approx(200 / 3), "second_pct": pytest.approx(100 / 3),
                  "calls_first_pct": 62.5, "n": 4}


# ------------------------------------------------------------------------------- cache: kill -9, resume

def _many_pairs(n=12):
    return [dict(PAIRS[i % 3], id=f"r{i}", summary_b=PAIRS[i % 3]["summary_b"] + f" (v{i})") for i in range(n)]


def _count_keys(path):
    keys = []
    for line in Path(path).read_bytes().splitlines():
        try:
            keys.append(json.loads(line)["key"])
        except ValueError:
            pass
    return Counter(keys)


def test_cache_survives_kill_9_and_resumes_without_relabeling(smol, tmp_path, scored_rows):
    pairs, cfg = _many_pairs(), raw(preamble="base", batch_size=1)
    cache = tmp_path / "cache.jsonl"
    script = ("import json,sys; from rlaif_lib.method import labeling as L; "
              f"L.label_pairs(json.loads(sys.argv[1]), {SMOLLM2!r}, L.LabelConfig(chat_template=False, "
              f"preamble='base', batch_size=1), cache_path=sys.argv[2], progress=False)")
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(pairs), str(cache)], cwd=ROOT, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if cache.exists() and 1 <= sum(_count_keys(cache).values()) < len(pairs):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the labeling run finished (or failed) before it could be killed"
    n_before = sum(_count_keys(cache).values())
    assert 1 <= n_before < len(pairs)
    with open(cache, "ab") as f:  # what a kill in the middle of a write leaves behind
        f.write(b'{"key": "half-written", "id": "r')
    scored_rows.update(cached=0, uncached=0)
    resumed = L.label_pairs(pairs, SMOLLM2, cfg, cache_path=cache, progress=False)
    assert sum(scored_rows.values()) == 2 * (len(pairs) - n_before)  # only the missing pairs were labeled
    counts = _count_keys(cache)
    assert len(counts) == len(pairs) and set(counts.values()) == {1}  # every pair exactly once
    assert Path(cache).read_bytes().endswith(b"\n")
    fresh = L.label_pairs(pairs, SMOLLM2, cfg, progress=False)  # uninterrupted, no cache
    for a, b in zip(resumed, fresh):
        assert a["id"] == b["id"]
        np.testing.assert_allclose(a["probs_ab"] + a["probs_ba"], b["probs_ab"] + b["probs_ba"], atol=1e-4)
    again = L.label_pairs(pairs, SMOLLM2, cfg, cache_path=cache, progress=False)  # all cached now
    assert again == resumed and sum(_count_keys(cache).values()) == len(pairs)


def test_cache_holds_a_file_lock_while_open(tmp_path):
    from filelock import FileLock, Timeout

    cache = LabelCache(tmp_path / "cache.jsonl")
    cache.add([{"key": "k", "id": "1", "result": {"p_a": 0.5}}])
    with pytest.raises(Timeout):  # a second writer waits for the first
        FileLock(str(tmp_path / "cache.jsonl") + ".lock").acquire(timeout=0.1)
    cache.close()
    with FileLock(str(tmp_path / "cache.jsonl") + ".lock").acquire(timeout=1):
        pass
    again = LabelCache(tmp_path / "cache.jsonl")
    assert again.done == {"k": {"p_a": 0.5}}
    again.close()


def test_cache_key_depends_on_what_changes_a_label():
    k = lambda cfg, p=PAIRS[0], ex=(): pair_key("m", cfg, ex, p)  # noqa: E731
    assert k(L.LabelConfig()) == k(L.LabelConfig(batch_size=1))
    assert k(L.LabelConfig()) != k(L.LabelConfig(preamble="base"))
    assert k(L.LabelConfig()) != k(L.LabelConfig(), dict(PAIRS[0], summary_a="other"))
    assert k(L.LabelConfig()) != k(L.LabelConfig(), ex=TRAIN[:1])


# ----------------------------------------------------------------------------------------- bad rows

@pytest.mark.parametrize("broken,message", [
    ({"summary_b": None}, r"pair 'q2' \(row 1\): missing field 'summary_b'"),
    ({"summary_a": "   "}, r"pair 'q2' \(row 1\): empty field 'summary_a'"),
    ({"post": 3}, r"field 'post' must be a string"),
])
def test_bad_rows_name_the_pair_and_field(broken, message):
    pairs = [dict(PAIRS[0]), {k: v for k, v in {**PAIRS[1], **broken}.items() if v is not None}, dict(PAIRS[2])]
    with pytest.raises(ValueError, match=message):
        L.label_pairs(pairs, "no-model-needed", progress=False)  # fails before any model is loaded


def test_exemplars_must_not_be_evaluated_pairs():
    with pytest.raises(ValueError, match="separate training split"):
        L.label_pairs(PAIRS, "no-model-needed", L.LabelConfig(shots=1), exemplars=[PAIRS[0]], progress=False)
    with pytest.raises(ValueError, match="needs that many exemplars"):
        L.label_pairs(PAIRS, "no-model-needed", L.LabelConfig(shots=2), exemplars=TRAIN[:1], progress=False)


def test_long_post_is_truncated_and_flagged(smol):
    _, tok = smol
    long_post = "word " * 400
    text, cut = prompts.truncate_post(long_post, tok, 16)
    assert cut and text.endswith(" ...") and len(tok(text)["input_ids"]) <= 16 + 3
    assert prompts.truncate_post("short post", tok, 16) == ("short post", False)
    row = L.label_pairs([dict(PAIRS[0], post=long_post)], smol, raw(max_post_tokens=16), progress=False)[0]
    assert row["truncated"] is True


def test_select_exemplars_from_training_pairs():
    ex = L.select_exemplars(TRAIN, 2, seed=0)
    assert [e["choice"] for e in ex] == [0, 1]  # shown answers balanced: "1", then "2"
    assert {e["id"] for e in ex} <= {"t1", "t2"}  # the most confident, distinct subreddits
    for e in ex:
        original = next(t for t in TRAIN if t["id"] == e["id"])
        preferred = original["summary_a"] if original["choice"] == 0 else original["summary_b"]
        assert (e["summary_a"], e["summary_b"])[e["choice"]] == preferred  # swapping keeps the human's choice
    assert L.select_exemplars(TRAIN, 2, seed=0) == ex
    with pytest.raises(ValueError):
        L.select_exemplars(TRAIN, 4, seed=0)  # t4 has no human choice


# ------------------------------------------------------------------------------------ metrics, baselines

def test_alignment_exact_numbers():
    pairs = [{"id": str(i), "choice": c, "confidence": conf} for i, (c, conf) in enumerate(
        [(0, 1), (0, 2), (1, 8), (1, 6), (0, 4)])]  # OpenAI's 9-point scale: 1-4 with choice 0, 6-9 with 1
    labels = [{"id": "0", "p_a": 0.9}, {"id": "1", "p_a": 0.4}, {"id": "2", "p_a": 0.1},
              {"id": "3", "p_a": 0.5}, {"id": "4", "p_a": 0.7}]
    a = L.alignment(labels, pairs)
    assert a["value"] == pytest.approx((1 + 0 + 1 + 0.5 + 1) / 5) and a["n"] == 5
    assert 0 <= a["ci_low"] <= a["value"] <= a["ci_high"] <= 1
    hi = L.alignment(labels[::-1], pairs, min_strength=3)  # matched by id, any order; |c - 5| >= 3 either way
    assert hi["value"] == pytest.approx(2 / 3) and hi["n"] == 3


def test_length_and_random_baselines():
    rows = L.length_labeler(PAIRS)
    assert [r["p_a"] for r in rows] == [1.0, 0.0, 1.0]
    assert L.alignment(rows, PAIRS)["value"] == 1.0
    rnd = baselines.random_labeler(_many_pairs(200), seed=1)
    assert set(r["p_a"] for r in rnd) == {0.0, 1.0} and 0.35 < np.mean([r["p_a"] for r in rnd]) < 0.65


def test_embedding_labeler_prefers_the_summary_about_the_post():
    pair = {"id": "e", "post": "My cat stopped eating and hides under the bed since we moved to a new flat.",
            "summary_a": "Cat stopped eating and hides since we moved.", "summary_b": "Best pizza toppings ranked."}
    row = L.embedding_labeler([pair, dict(pair, id="f", summary_a=pair["summary_b"], summary_b=pair["summary_a"])])
    assert row[0]["p_a"] > 0.9 and row[1]["p_a"] < 0.1


# ----------------------------------------------------------------------------------------- d-RLAIF

def test_parse_tldr_prompt():
    prompt = "SUBREDDIT: r/relationships\n\nTITLE: Help me\n\nPOST: My post.\nSecond line.\n\nTL;DR:"
    assert parse_tldr_prompt(prompt) == {"subreddit": "relationships", "title": "Help me",
                                           "post": "My post.\nSecond line."}
    assert parse_tldr_prompt("Just a post.\n\nTL;DR:")["post"] == "Just a post."


def test_drlaif_reward_callable(smol):
    import torch

    model, tok = smol
    prompt = f"SUBREDDIT: r/relationships\n\nTITLE: Roommate\n\nPOST: {PAIRS[0]['post']}\n\nTL;DR:"
    reward = L.make_drlaif_reward(smol, L.LabelConfig())
    values = reward([prompt, prompt, prompt], [PAIRS[0]["summary_a"], PAIRS[0]["summary_b"], " "])
    assert len(values) == 3 and all(-1.0 <= v <= 1.0 for v in values) and values[2] == -1.0
    # the score distribution by hand: P("1".."9") at "SCORE: ", "10" = "1" then "0"
    ending, sep, ids, zero = direct._score_tokens(tok, L.DRLAIF_ENDING)
    assert ending == "SCORE: " and sep == "" and zero is not None and len(ids) == 9  # SmolLM2 splits digits
    post = parse_tldr_prompt(prompt)
    s = L.dscore(smol, [post], [PAIRS[0]["summary_a"]])[0]
    body = (f"SUBREDDIT: r/relationships\n\nTITLE: Roommate\n\nPOST: {post['post']}\n\n"
            f"SUMMARY: {PAIRS[0]['summary_a']}\n\n")
    full = prompts.wrap_prompt(tok, L.LabelConfig(), L.DRLAIF_PREAMBLE + "\n\n", body, ending)[1]
    with torch.no_grad():
        p = model(input_ids=torch.tensor([scoring.encode(tok, full)])).logits[0, -1].softmax(-1)
        p0 = model(input_ids=torch.tensor([scoring.encode(tok, full + "1")])).logits[0, -1].softmax(-1)[zero]
    probs = torch.cat([p[ids[:1]] * (1 - p0), p[ids[1:]], p[ids[:1]] * p0]).double()
    expected = float((probs / probs.sum() * torch.arange(1, 11)).sum())
    assert s == pytest.approx(expected, abs=1e-3)
    assert values[0] == pytest.approx((expected - 5.5) / 4.5, abs=1e-3)


def test_score_tokens_gpt2_style_bpe():
    """Byte-level BPE merges " 7" into one token and may have " 10": the space moves to the answer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([f"SCORE: {s}" for s in range(1, 11)] * 50,
                            trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    hf = PreTrainedTokenizerFast(tokenizer_object=tok)
    ending, sep, ids, zero = direct._score_tokens(hf, "SCORE: ")
    assert (ending, sep, zero) == ("SCORE:", " ", None)
    assert hf.convert_ids_to_tokens(ids) == [f"Ġ{s}" for s in range(1, 11)]
