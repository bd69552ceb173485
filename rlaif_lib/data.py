"""Data for both worlds behind one interface: the toy world, the hub, or local files in the same schemas.

SFT rows, as in `trl-lib/tldr`:
    {"prompt": "SUBREDDIT: r/...\\n\\nTITLE: ...\\n\\nPOST: ...\\n\\nTL;DR:", "completion": " ..."}

Human comparisons, as in `openai/summarize_from_feedback` (config "comparisons"):
    {"info": {"id", "post", "title", "subreddit", "site", "article"},
     "summaries": [{"text", "policy", "note"}, {"text", "policy", "note"}],
     "choice": 0 or 1, "worker", "batch", "split", "extra": {"confidence": 1-4 or 6-9, or None}}

`extra.confidence` is a 9-point preference scale, not a confidence (see CONFIDENCE_SCALE_NOTE).

`source` is a hub id or a local path (SFT rows also "toy": the toy world's posts; the toy world's
comparisons are sampled from the SFT policy by the pipeline's sample stage): a .jsonl/.json/.parquet/.csv
file, a folder written by `save_to_disk`, or a folder of such files named by split (train.jsonl, ...).
A single local file has no splits of its own: asked for "train", "validation" or "test", it is split
by post (SPLIT_FRACTIONS, `split_of_post`), so that held-out posts never appear in training;
`split=None` reads the whole file.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path

import datasets

from .tldr import tldr_prompt

OPENAI_COMPARISONS = "openai/summarize_from_feedback"
SFT_FIELDS = ("prompt", "completion")
COMPARISON_FIELDS = ("info", "summaries", "choice", "worker", "batch", "split", "extra")
TOY_SPLITS = {"train": "sft", "validation": "eval", "test": "eval"}  # SFT split -> the toy world's post split
TOY_DEFAULT_N = {"train": 2000, "validation": 300, "test": 300}
FILE_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
# A single local file is split by post: the share of posts in each split (deterministic, see split_of_post).
SPLIT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
# Real data shipped with the kit (assets/real/SOURCES.md: provenance and licences), loadable by name.
REAL = Path(__file__).resolve().parent / "assets" / "real"
REAL_COMPARISONS = {"openai-batch13": REAL / "openai_comparisons_batch13.jsonl"}  # 1,097 of OpenAI's comparisons
REAL_SFT = {"tldr-500": REAL / "tldr_posts_500.jsonl"}  # 500 Reddit TL;DR posts with their reference summaries
# The named comparisons are split by post into halves: "selection" (prompts, exemplars, anything chosen or
# trained) and "test" (only scored), by the same hash of the post as SPLIT_FRACTIONS.
REAL_SPLITS = {"selection": 0.5, "test": 0.5}
REAL_SPLIT_OF = {"train": "selection", "validation": "test"}  # the pipeline's split names, for the halves

CONFIDENCE_SCALE_NOTE = (
    "Human `confidence` (OpenAI's `extra.confidence`) is a 9-point preference scale over the two "
    "summaries, not a confidence: 1-4 go with choice 0 (1 = definitely summary A, 4 = slightly A), "
    "6-9 with choice 1 (6 = slightly B, 9 = definitely summary B); 5 is never used. Strength of "
    "preference = |confidence - 5|, from 1 to 4. 'High-confidence' pairs are those with strength >= 3 "
    "(confidence 1, 2, 8 or 9), whichever summary won."
)
HIGH_CONFIDENCE_STRENGTH = 3


class DataError(ValueError):
    """Input data the kit cannot use; the message says which file, row or set, and why."""


class SchemaError(DataError):
    """A file or row does not fit the schema; the message names the file, the line/row and the field."""


class SplitOverlapError(DataError):
    """Held-out posts (evaluation, test pairs) also appear in a training set."""


def preference_strength(confidence) -> int | None:
    """|confidence - 5| on OpenAI's 9-point scale: 1 (slight) .. 4 (definite); None stays None."""
    return None if confidence is None else abs(int(confidence) - 5)


# ----------------------------------------------------------------------------- posts and splits
_POST_RE = re.compile(r"POST:\s*(.*?)\s*TL;DR:\s*$", re.DOTALL)


def normalize_post(text: str) -> str:
    """A post's text with whitespace collapsed: the form in which posts are compared and split."""
    return " ".join(str(text).split())


def normalize_summary(text: str) -> str:
    """A summary's text with surrounding whitespace stripped: the form in which the kit's pairs hold
    summaries (`comparisons_to_pairs`), and so the form in which two summaries count as the same."""
    return str(text).strip()


def post_text(row: dict) -> str | None:
    """The post a row is about, for any of the kit's row shapes: a comparison row (info.post, or
    info.article for news), a flat pair ("post"), or an SFT/prompt row (the POST: part of "prompt")."""
    info = row.get("info")
    if isinstance(info, dict):
        text = info.get("post") if info.get("post") is not None else info.get("article")
    elif row.get("post") is not None:
        text = row["post"]
    elif isinstance(row.get("prompt"), str):
        m = _POST_RE.search(row["prompt"])
        text = m.group(1) if m else row["prompt"]
    else:
        return None
    return normalize_post(text) if isinstance(text, str) else None


def post_id(row: dict) -> str | None:
    """The post id of a row, where it has one (info.id, or "id"); None for trl-lib/tldr rows."""
    holder = row["info"] if isinstance(row.get("info"), dict) else row
    return None if holder.get("id") is None else str(holder["id"])


def split_of_post(text: str, fractions: dict = SPLIT_FRACTIONS) -> str:
    """The split ("train", "validation" or "test") a post belongs to when a single file is split:
    a hash of its normalized text, cut at `fractions`. Every row about the same post lands in the
    same split, in SFT files and comparison files alike (trl-lib/tldr rows carry no post id, so
    the post's text is what both schemas share)."""
    u = int(hashlib.sha256(normalize_post(text).encode()).hexdigest()[:12], 16) / 16 ** 12
    for split, edge in zip(fractions, itertools.accumulate(fractions.values())):
        if u < edge:
            return split
    return split


def check_disjoint(training: dict, held_out: dict, id_sets: tuple = ()) -> None:
    """Raise SplitOverlapError if any held-out post also appears in a training set, by post text,
    and by post id for the sets named in `id_sets` (those whose ids are post ids, not row numbers).

    `training` and `held_out` map a set's name to its rows (any shape `post_text` reads)."""
    train_texts, train_ids = {}, {}
    for name, rows in training.items():
        for row in rows:
            text, pid = post_text(row), post_id(row)
            if text:
                train_texts.setdefault(text, (name, pid))
            if name in id_sets and pid is not None:
                train_ids.setdefault(pid, name)
    for name, rows in held_out.items():
        for i, row in enumerate(rows):
            text, pid = post_text(row), post_id(row)
            if text and text in train_texts:
                other, other_id = train_texts[text]
                raise SplitOverlapError(
                    f"held-out set '{name}' row {i} (post id {pid}) has the same post text as a row of training "
                    f"set '{other}' (post id {other_id}): evaluation posts must never be trained on. Use a "
                    "file per split with disjoint posts, or one file, which the kit splits by post.")
            if name in id_sets and pid is not None and pid in train_ids:
                raise SplitOverlapError(
                    f"held-out set '{name}' row {i} has post id {pid}, which training set '{train_ids[pid]}' "
                    "also has: evaluation posts must never be trained on.")


# ----------------------------------------------------------------------------- reading local files
def check_source(source: str, kind: str) -> None:
    """Refuse at once (before anything heavy runs) a data source that cannot be one: `kind` "sft" or
    "comparisons"; a source is "toy", a name of the real data in the box (REAL_SFT / REAL_COMPARISONS),
    an existing local file or folder, or a hub id ("owner/name"). Raises FileNotFoundError or ValueError."""
    names = ["toy", *(REAL_SFT if kind == "sft" else REAL_COMPARISONS)]
    if source in names or Path(source).expanduser().exists():
        return
    if _looks_like_path(source):
        raise FileNotFoundError(f"{source}: no such file or folder")
    if source.count("/") != 1:
        raise ValueError(f"unknown {kind} data {source!r}: give one of {names}, a local file or folder, or a hub "
                         "id (owner/name)")


def _looks_like_path(source: str) -> bool:
    """A local path rather than a hub id ("owner/name"): a file suffix, a leading / . or ~, or 2+ slashes."""
    return (Path(source).suffix.lower() in FILE_FORMATS or source.startswith(("/", ".", "~"))
            or source.count("/") >= 2 or "\\" in source)


def _read_json_rows(path: Path) -> tuple[list[dict], list[int]]:
    """Rows of a .jsonl (or .json: a list of rows, or JSON lines) file, and the line each row is on."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problem = f"not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start})"
        raise SchemaError(f"{path}, line {line}: {problem}") from None
    if not text.strip():
        raise SchemaError(f"{path}: the file is empty (no rows)")

    def parse(json_text: str, number: int | None):
        try:
            return json.loads(json_text)
        except json.JSONDecodeError as e:
            raise SchemaError(f"{path}, line {number or e.lineno}: not valid JSON ({e.msg})") from None

    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        rows = parse(text, None)
        lines = [None] * len(rows)
    else:
        numbered = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        rows, lines = [parse(line, number) for number, line in numbered], [number for number, _ in numbered]
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            where = f"line {lines[i]}" if lines[i] else f"row {i}"
            raise SchemaError(f"{path}, {where}: a row must be a JSON object, got {type(row).__name__}")
    return rows, lines


def _read_file(path: Path) -> tuple[list[dict], list[int | None]]:
    """All rows of one local file, and the line of each (None where the format has no lines)."""
    suffix = path.suffix.lower()
    if suffix not in FILE_FORMATS:
        raise SchemaError(f"{path}: unknown file type {suffix!r}; expected one of {list(FILE_FORMATS)}")
    if path.stat().st_size == 0:
        raise SchemaError(f"{path}: the file is empty (no rows)")
    if FILE_FORMATS[suffix] == "json":
        return _read_json_rows(path)
    try:
        ds = datasets.load_dataset(FILE_FORMATS[suffix], data_files=str(path), split="train")
    except Exception as e:  # noqa: BLE001 - whatever the reader says, say it about this file
        raise SchemaError(f"{path}: cannot read it as {FILE_FORMATS[suffix]} ({type(e).__name__}: {e})") from None
    if len(ds) == 0:
        raise SchemaError(f"{path}: the file is empty (no rows)")
    rows = ds.to_list()
    return rows, [i + 2 if suffix == ".csv" else None for i in range(len(rows))]  # csv: line 1 is the header


def _check_split(source, split: str, fractions: dict) -> None:
    if split not in fractions:
        raise ValueError(f"{source}: split must be one of {list(fractions)} or None, got {split!r}")


def _read_checked(path: Path, check) -> list[dict]:
    """All rows of one local file, every row checked by `check` (errors name the file and the line)."""
    rows, lines = _read_file(path)
    check(rows, source=str(path), lines=lines)
    return rows


def _load(source: str, kind: str, split: str | None, check, config: str | None = None) -> datasets.Dataset:
    """Rows of `kind` ("sft" or "comparisons") from a local file, a local folder or a hub id, every
    row checked by `check` (errors name the file and line). A single file is split by post when
    `split` is given; a folder has a file (or a saved split) per split; a hub id uses its own splits."""
    path = Path(source).expanduser()
    if path.is_file():
        rows = _read_checked(path, check)
        if split is not None:
            _check_split(path, split, SPLIT_FRACTIONS)
            rows = [r for r in rows if split_of_post(post_text(r) or "") == split]
        fields = SFT_FIELDS if kind == "sft" else COMPARISON_FIELDS
        return datasets.Dataset.from_list(rows) if rows else datasets.Dataset.from_dict({f: [] for f in fields})
    split = split or "train"
    if not path.is_dir():
        if _looks_like_path(source):
            raise FileNotFoundError(f"{source}: no such file or folder")
        ds = datasets.load_dataset(source, config, split=split)
        check(ds, source=f"{source} [{split}]")
        return ds
    files = [path / f"{split}{suffix}" for suffix in FILE_FORMATS if (path / f"{split}{suffix}").is_file()]
    if (path / "dataset_dict.json").exists() or (path / "state.json").exists():  # written by save_to_disk
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise SchemaError(f"{path}: no split {split!r} (it has {list(ds)})")
            ds = ds[split]
    elif files:
        return datasets.Dataset.from_list(_read_checked(files[0], check))
    else:
        try:
            ds = datasets.load_dataset(str(path), split=split)
        except Exception as e:  # noqa: BLE001
            raise SchemaError(f"{path}: cannot read split {split!r} from this folder ({type(e).__name__}: {e}); "
                              f"expected files named by split, e.g. {split}.jsonl") from None
    check(ds, source=f"{path} [{split}]")
    return ds


def _take(ds: datasets.Dataset, n: int | None, seed: int) -> datasets.Dataset:
    """A seeded random subset of n rows (all rows if n is None or too big)."""
    if n is None or n >= len(ds):
        return ds
    return ds.shuffle(seed=seed).select(range(n))


def _fail(field: str, problem: str):
    raise SchemaError(f"field '{field}' {problem}")


def _check_text(field: str, value, allow_none: bool = False) -> None:
    if value is None:
        if not allow_none:
            _fail(field, "is missing")
    elif not isinstance(value, str):
        _fail(field, f"must be a string, got {type(value).__name__}")
    elif not allow_none and not value.strip():
        _fail(field, "is empty")


def _check_rows(kind: str, check_row, rows, source: str | None, lines) -> None:
    """Run check_row(row) on every row; a SchemaError names the file and the line when known, and the row."""
    for i, row in enumerate(rows):
        try:
            if not isinstance(row, dict):
                raise SchemaError(f"must be a dict, got {type(row).__name__}")
            check_row(row)
        except SchemaError as e:
            line = lines[i] if lines is not None and i < len(lines) else None
            where = ", ".join(filter(None, [source, line and f"line {line}"]))
            raise SchemaError((f"{where}: " if where else "") + f"{kind} row {i}: {e}") from None


def _check_sft_row(row: dict) -> None:
    for field in SFT_FIELDS:
        _check_text(field, row.get(field))


def check_sft_rows(rows, source: str | None = None, lines=None) -> None:
    """Raise SchemaError unless every row has non-empty string 'prompt' and 'completion'.
    The message names the row and field, and the file (`source`) and line (`lines[i]`) when given."""
    _check_rows("sft", _check_sft_row, rows, source, lines)


def _check_comparison_row(row: dict) -> None:
    info = row.get("info")
    if not isinstance(info, dict):
        _fail("info", "is missing" if info is None else "must be a dict")
    _check_text("info.id", info.get("id"))
    is_news = info.get("post") is None and isinstance(info.get("article"), str) and info["article"].strip()
    if not is_news:
        _check_text("info.post", info.get("post"))
    for field in ("title", "subreddit"):
        _check_text(f"info.{field}", info.get(field), allow_none=True)
    summaries = row.get("summaries")
    if not isinstance(summaries, list) or len(summaries) != 2:
        found = "is missing" if summaries is None else f"must hold exactly 2 summaries, got {summaries!r:.80}"
        _fail("summaries", found)
    for j, summary in enumerate(summaries):
        if not isinstance(summary, dict):
            _fail(f"summaries[{j}]", "must be a dict")
        for field in ("text", "policy"):
            _check_text(f"summaries[{j}].{field}", summary.get(field))
    choice = row.get("choice")
    if isinstance(choice, bool) or choice not in (0, 1):
        _fail("choice", f"must be 0 or 1, got {choice!r}")
    extra = row.get("extra")
    if extra is not None and not isinstance(extra, dict):
        _fail("extra", "must be a dict or missing")
    confidence = (extra or {}).get("confidence")
    if confidence is None:
        return
    if isinstance(confidence, bool) or confidence not in range(1, 10) or confidence == 5:
        _fail("extra.confidence", f"must be 1-4 or 6-9 (OpenAI's 9-point scale) or None, got {confidence!r}")
    if (confidence < 5) != (choice == 0):
        _fail("extra.confidence", f"= {confidence} contradicts choice = {choice}: on the 9-point scale 1-4 mean "
              "summary 0 is preferred (choice 0) and 6-9 mean summary 1 is preferred (choice 1)")


def check_comparison_rows(rows, source: str | None = None, lines=None) -> None:
    """Raise SchemaError unless every row fits the comparisons schema (naming row, field, and the file
    `source` and line `lines[i]` when given). info.title and info.subreddit may be None (as in the real
    data); a CNN/DM row (info.article instead of info.post) passes, and the loader drops it. A missing
    'extra' counts as confidence None; a confidence must agree with the choice (CONFIDENCE_SCALE_NOTE)."""
    _check_rows("comparisons", _check_comparison_row, rows, source, lines)


def load_sft(source: str, split: str | None = None, n: int | None = None, seed: int = 0) -> datasets.Dataset:
    """SFT rows (prompt, completion) from "toy", a hub id such as "trl-lib/tldr", a local path, or a name of the
    real data shipped with the kit (REAL_SFT, split by post like a local file); split=None
    means all of a local file, else "train". Toy splits: "train" -> the toy world's "sft" posts, "validation"
    and "test" -> its "eval" posts (n posts, default TOY_DEFAULT_N); other sources: a seeded random subset
    of n rows, or all. Bad input raises SchemaError (naming file, line, field) or FileNotFoundError."""
    if source in REAL_SFT:  # the shipped TL;DR posts, turned into trl-lib/tldr rows, then split like any file
        rows = [{"prompt": tldr_prompt(r["subreddit"], r["title"], r["instruction"]), "completion": " " + r["gold_response"]}
                for r in _read_file(REAL_SFT[source])[0]]
        if split is not None:
            _check_split(source, split, SPLIT_FRACTIONS)
            rows = [r for r in rows if split_of_post(post_text(r)) == split]
        ds = _take(datasets.Dataset.from_list(rows), n, seed)
    elif source == "toy":
        from . import toy_world

        split = split or "train"
        if split not in TOY_SPLITS:
            raise ValueError(f"toy sft split must be one of {list(TOY_SPLITS)}, got {split!r}")
        posts = toy_world.generate_posts(n or TOY_DEFAULT_N[split], TOY_SPLITS[split], seed)
        ds = datasets.Dataset.from_list(toy_world.sft_rows(posts))
    else:
        ds = _load(source, "sft", split, check_sft_rows)  # every row checked, errors name the line in the source
        ds = _take(ds, n, seed).select_columns(list(SFT_FIELDS))
    check_sft_rows(ds)
    return ds


def load_comparisons(source: str, split: str | None = None, n: int | None = None, seed: int = 0) -> datasets.Dataset:
    """Human comparisons from "openai/summarize_from_feedback" (config "comparisons"), a local path, or a
    name of the real data shipped with the kit (REAL_COMPARISONS, split "selection" or "test", REAL_SPLITS; the
    pipeline's "train" is the selection half and its "validation" the test half);
    split=None means all of a local file, else "train". Rows about CNN/DM news articles (no Reddit post)
    are dropped; then a seeded subset of n rows. Bad input raises SchemaError or FileNotFoundError."""
    if source in REAL_COMPARISONS:  # shipped with the kit: halves by post, "selection" and "test" (REAL_SPLITS)
        rows = _read_checked(REAL_COMPARISONS[source], check_comparison_rows)
        if split is not None:
            split = REAL_SPLIT_OF.get(split, split)
            _check_split(source, split, REAL_SPLITS)
            rows = [r for r in rows if split_of_post(r["info"]["post"], REAL_SPLITS) == split]
        ds = datasets.Dataset.from_list(rows)
    else:
        config = "comparisons" if source == OPENAI_COMPARISONS else None
        ds = _load(source, "comparisons", split, check_comparison_rows, config=config)
    if len(ds):
        reddit = [i for i, info in enumerate(ds["info"]) if info.get("post") is not None]  # Reddit posts only
        ds = ds if len(reddit) == len(ds) else ds.select(reddit)
        ds = _take(ds, n, seed)
    check_comparison_rows(ds)
    return ds


def comparisons_to_pairs(ds) -> list[dict]:
    """Flat pairs for the rest of the kit: id, post, title, subreddit, prompt (trl-lib/tldr format),
    summary_a, summary_b (surrounding whitespace stripped), policy_a, policy_b, choice, confidence
    (OpenAI's 9-point scale, CONFIDENCE_SCALE_NOTE)."""
    pairs = []
    for row in ds:
        info, (a, b) = row["info"], row["summaries"]
        pairs.append({
            "id": info["id"], "post": info["post"], "title": info.get("title"), "subreddit": info.get("subreddit"),
            "prompt": tldr_prompt(info.get("subreddit"), info.get("title"), info["post"]),
            "summary_a": normalize_summary(a["text"]), "summary_b": normalize_summary(b["text"]),
            "policy_a": a["policy"], "policy_b": b["policy"],
            "choice": int(row["choice"]), "confidence": (row.get("extra") or {}).get("confidence"),
        })
    return pairs


def pair_id(pair: dict) -> str:
    """A comparison's own id: its post id and a hash of its two summaries (in the real data a post is
    compared several times, so the post id alone does not name a pair). Works on flat pairs."""
    texts = f"{normalize_summary(pair['summary_a'])}\0{normalize_summary(pair['summary_b'])}"
    return f"{pair['id']}#{hashlib.sha256(texts.encode()).hexdigest()[:12]}"


def load_run_pairs(run, split: str) -> list[dict]:
    """The flat pairs (id, prompt, summary_a, summary_b, choice, confidence, ...) of a run folder's
    sample stage (`run`: a run_folder.RunFolder), split "train" or "test"."""
    return comparisons_to_pairs(load_comparisons(str(run.comparisons(split))))
