"""Data for both worlds behind one interface: the toy world, the hub, or local files in the same schemas.

SFT rows, as in `trl-lib/tldr`:
    {"prompt": "SUBREDDIT: r/...\\n\\nTITLE: ...\\n\\nPOST: ...\\n\\nTL;DR:", "completion": " ..."}

Human comparisons, as in `openai/summarize_from_feedback` (config "comparisons"):
    {"info": {"id", "post", "title", "subreddit", "site", "article"},
     "summaries": [{"text", "policy", "note"}, {"text", "policy", "note"}],
     "choice": 0 or 1, "worker", "batch", "split", "extra": {"confidence": 1-9 or None}}

`source` is "toy", a hub id, or a local path: a .jsonl/.json/.parquet/.csv file, a folder written by
`save_to_disk`, or a folder of such files named by split (train.jsonl, validation.parquet, ...).
"""
from __future__ import annotations

import random
from pathlib import Path

import datasets

from .tldr import tldr_prompt

TLDR_SFT = "trl-lib/tldr"
OPENAI_COMPARISONS = "openai/summarize_from_feedback"
SFT_FIELDS = ("prompt", "completion")
COMPARISON_FIELDS = ("info", "summaries", "choice", "worker", "batch", "split", "extra")
TOY_SPLITS = {"sft": {"train": "sft", "validation": "eval", "test": "eval"},
              "comparisons": {"train": "label", "validation": "eval", "test": "eval"}}
TOY_DEFAULT_N = {"train": 2000, "validation": 300, "test": 300}
FILE_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


class SchemaError(ValueError):
    """A row does not fit the schema; the message names the row index and the field."""


def _toy_split(kind: str, split: str) -> str:
    if split not in TOY_SPLITS[kind]:
        raise ValueError(f"toy {kind} split must be one of {list(TOY_SPLITS[kind])}, got {split!r}")
    return TOY_SPLITS[kind][split]


def _load(source: str, split: str, config: str | None = None) -> datasets.Dataset:
    """A local file (the whole file is the split), a local folder, or a hub id (config used only for hub ids)."""
    path = Path(source).expanduser()
    if path.is_file():
        if path.suffix not in FILE_FORMATS:
            raise ValueError(f"{source}: expected one of {list(FILE_FORMATS)}")
        return datasets.load_dataset(FILE_FORMATS[path.suffix], data_files=str(path), split="train")
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():  # written by save_to_disk
            ds = datasets.load_from_disk(str(path))
            return ds[split] if isinstance(ds, datasets.DatasetDict) else ds
        return datasets.load_dataset(str(path), split=split)
    return datasets.load_dataset(source, config, split=split)


def _take(ds: datasets.Dataset, n: int | None, seed: int) -> datasets.Dataset:
    """A seeded random subset of n rows (all rows if n is None or too big)."""
    if n is None or n >= len(ds):
        return ds
    return ds.shuffle(seed=seed).select(range(n))


def _fail(kind: str, i: int, field: str, problem: str):
    raise SchemaError(f"{kind} row {i}: field '{field}' {problem}")


def _check_text(kind: str, i: int, field: str, value, allow_none: bool = False) -> None:
    if value is None:
        if not allow_none:
            _fail(kind, i, field, "is missing")
    elif not isinstance(value, str):
        _fail(kind, i, field, f"must be a string, got {type(value).__name__}")
    elif not allow_none and not value.strip():
        _fail(kind, i, field, "is empty")


def check_sft_rows(rows) -> None:
    """Raise SchemaError unless every row has non-empty string 'prompt' and 'completion'."""
    for i, row in enumerate(rows):
        for field in SFT_FIELDS:
            _check_text("sft", i, field, row.get(field))


def check_comparison_rows(rows) -> None:
    """Raise SchemaError unless every row fits the comparisons schema.

    info.id and info.post: non-empty strings; info.title and info.subreddit: strings or None (the real data
    has some None). A CNN/DM row (info.post None, info.article a string) passes; the loader drops it.
    summaries: exactly 2, each with non-empty string 'text' and 'policy'. choice: 0 or 1.
    extra.confidence: an int 1-9 or None (a missing 'extra' counts as None).
    """
    for i, row in enumerate(rows):
        info = row.get("info")
        if not isinstance(info, dict):
            _fail("comparisons", i, "info", "is missing" if info is None else "must be a dict")
        _check_text("comparisons", i, "info.id", info.get("id"))
        is_news = info.get("post") is None and isinstance(info.get("article"), str) and info["article"].strip()
        if not is_news:
            _check_text("comparisons", i, "info.post", info.get("post"))
        for field in ("title", "subreddit"):
            _check_text("comparisons", i, f"info.{field}", info.get(field), allow_none=True)
        summaries = row.get("summaries")
        if not isinstance(summaries, list) or len(summaries) != 2:
            found = "is missing" if summaries is None else f"must hold exactly 2 summaries, got {summaries!r:.80}"
            _fail("comparisons", i, "summaries", found)
        for j, summary in enumerate(summaries):
            if not isinstance(summary, dict):
                _fail("comparisons", i, f"summaries[{j}]", "must be a dict")
            for field in ("text", "policy"):
                _check_text("comparisons", i, f"summaries[{j}].{field}", summary.get(field))
        choice = row.get("choice")
        if isinstance(choice, bool) or choice not in (0, 1):
            _fail("comparisons", i, "choice", f"must be 0 or 1, got {choice!r}")
        confidence = (row.get("extra") or {}).get("confidence")
        if confidence is not None and (isinstance(confidence, bool) or confidence not in range(1, 10)):
            _fail("comparisons", i, "extra.confidence", f"must be an int 1-9 or None, got {confidence!r}")


def load_sft(source: str, split: str = "train", n: int | None = None, seed: int = 0) -> datasets.Dataset:
    """SFT rows (prompt, completion) from "toy", a hub id such as "trl-lib/tldr", or a local path.

    Toy splits: "train" -> the toy world's "sft" posts, "validation" and "test" -> its "eval" posts
    (n posts, default TOY_DEFAULT_N). Otherwise a seeded random subset of n rows, or all rows.
    """
    if source == "toy":
        from . import toy_world

        toy_split = _toy_split("sft", split)
        posts = toy_world.generate_posts(n or TOY_DEFAULT_N[split], toy_split, seed)
        ds = datasets.Dataset.from_list(toy_world.sft_rows(posts))
    else:
        ds = _load(source, split)
        check_sft_rows(ds)  # all rows, so that a row index in an error is the row in the source
        ds = _take(ds, n, seed).select_columns(list(SFT_FIELDS))
    check_sft_rows(ds)
    return ds


def toy_comparisons(split: str = "train", n: int | None = None, seed: int = 0) -> list[dict]:
    """Toy human comparisons: one pair of policy-like summaries per post, labelled by a simulated rater."""
    from . import toy_world

    toy_split = _toy_split("comparisons", split)
    posts = toy_world.generate_posts(n or TOY_DEFAULT_N[split], toy_split, seed)
    rng = random.Random(f"toy-comparisons:{seed}:{split}")
    rows = []
    for i, post in enumerate(posts):
        a, b, kind_a, kind_b = toy_world.sample_policy_pair(post, rng)
        choice, confidence = toy_world.human_preference(post, a, b, rng)
        policies = (f"toy-{kind_a}", f"toy-{kind_b}")
        rows.append(toy_world.comparison_row(post, a, b, choice, confidence, policies, split, worker=f"sim-{i % 10}"))
    return rows


def _is_reddit(info: dict) -> bool:
    return info.get("post") is not None


def load_comparisons(source: str, split: str = "train", n: int | None = None, seed: int = 0) -> datasets.Dataset:
    """Human comparisons from "toy", "openai/summarize_from_feedback" (config "comparisons"), or a local path.

    Toy splits: "train" -> the toy world's "label" posts, "validation"/"test" -> its "eval" posts.
    Real data: rows about CNN/DM news articles (no Reddit post) are dropped; then a seeded subset of n rows.
    """
    if source == "toy":
        ds = datasets.Dataset.from_list(toy_comparisons(split, n, seed))
    else:
        ds = _load(source, split, config="comparisons" if source == OPENAI_COMPARISONS else None)
        check_comparison_rows(ds)  # all rows, so that a row index in an error is the row in the source
        ds = _take(ds.filter(_is_reddit, input_columns="info"), n, seed)
    check_comparison_rows(ds)
    return ds


def comparisons_to_pairs(ds) -> list[dict]:
    """Flat pairs for the rest of the kit: id, post, title, subreddit, prompt (trl-lib/tldr format),
    summary_a, summary_b (surrounding whitespace stripped), policy_a, policy_b, choice, confidence."""
    pairs = []
    for row in ds:
        info, (a, b) = row["info"], row["summaries"]
        pairs.append({
            "id": info["id"], "post": info["post"], "title": info.get("title"), "subreddit": info.get("subreddit"),
            "prompt": tldr_prompt(info.get("subreddit"), info.get("title"), info["post"]),
            "summary_a": a["text"].strip(), "summary_b": b["text"].strip(),
            "policy_a": a["policy"], "policy_b": b["policy"],
            "choice": int(row["choice"]), "confidence": (row.get("extra") or {}).get("confidence"),
        })
    return pairs


def high_confidence(pairs: list[dict], min_confidence: int = 8) -> list[dict]:
    """The pairs whose human confidence is at least min_confidence (the paper scores AI labelers on these)."""
    return [p for p in pairs if p["confidence"] is not None and p["confidence"] >= min_confidence]
