"""The class as the raters: students label fixed pairs, and their labels are compared with the AI labeler's.

The pairs are fixed texts, the same on every laptop (`class_pairs`): 20 toy-world pairs committed in
assets/class_pairs_toy.jsonl (rated by the toy world's SIMULATED raters), or 20 real pairs chosen, by a seeded
hash, from the test half of OpenAI's batch 13, several of them labelled by more than one OpenAI worker.

Every answer is one JSON line in the comparisons schema's terms (OpenAI's `summarize_from_feedback`):

    {"student": "ana", "pair_id": "label-900012#3f2a...", "texts": "9c1e0b7d52aa", "shown_first": "b",
     "choice": 0, "confidence": 2, "time": "2024-05-02T10:31:07"}

- `pair_id`: `data.pair_id(pair)`, the post id and a hash of both summaries (a real post is compared several
  times, so its id alone does not name a pair). Every function here joins answers to pairs by it.
- `texts`: `pair_texts_hash(pair)`, a short hash of the post and both summaries the student was shown, so an
  answer about edited texts is refused when the class is merged instead of counting as an answer on the real pair.
- `shown_first`: which summary the student saw on the left ("a" = summary_a); the order is random
  per student and pair, so the class cannot have a position bias in the kit's favour.
- `choice`: the summary preferred, 0 = summary_a, 1 = summary_b (never "left"/"right").
- `confidence`: the real data's 9-point preference scale: 1-4 = summary 0 (summary_a) preferred,
  1 = definitely; 6-9 = summary 1 preferred, 9 = definitely; never 5. Strength = |confidence - 5|.

`save_answer` appends one line and fsyncs it, so an answer survives a kernel restart or a crash.
An instructor merges the students' files (`rlaif class-merge FILES... --out FILE --pairs toy`), compares the
class with the AI labeler, the dataset's raters and the gold rater (`compare_with`), and trains a
reward model on the class's labels (`class_labels`): RLHF with this room as the humans.
`labeling_widget` is the ipywidgets front end; its callbacks only call the functions above.
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
import os
import random
import warnings
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from . import data
from .run_folder import write_jsonl
from .stats import bootstrap_mean

FIELDS = ("student", "pair_id", "texts", "shown_first", "choice", "confidence")
STRENGTH_WORDS = {1: "slightly", 2: "clearly", 3: "strongly", 4: "definitely"}

# The fixed pairs: CLASS_PAIR_SOURCES names them for `class_pairs` and `rlaif class-merge --pairs`.
TOY_CLASS_FILE = Path(__file__).resolve().parent / "assets" / "class_pairs_toy.jsonl"
TOY_CLASS_N, TOY_CLASS_RATERS = 20, 3
# Label-split posts from this index on: far past any run's label posts, its exemplar pool and the validation split.
TOY_CLASS_START = 900_000
REAL_CLASS_N, REAL_CLASS_MULTI = 20, 8  # 20 real pairs, 8 of them labelled by several OpenAI workers
CLASS_PAIR_SOURCES = ("toy", "openai-batch13")


class AnswerError(ValueError):
    """A class answer that does not fit the schema; the message names the file, line and field."""


# ----------------------------------------------------------------------------- the fixed pairs
def pair_texts_hash(pair: dict) -> str:
    """A short hash of the texts a student sees: the post (whitespace collapsed) and both summaries (stripped)."""
    texts = "\0".join([data.post_text(pair) or "", data.normalize_summary(pair["summary_a"]),
                       data.normalize_summary(pair["summary_b"])])
    return hashlib.sha256(texts.encode()).hexdigest()[:12]


def grouped_pairs(ds) -> list[dict]:
    """Flat pairs (`data.comparisons_to_pairs`) with one row per pair: comparisons of the same pair (same
    `data.pair_id`) by several workers become one pair whose `choices` and `workers` list every rating, in
    file order; its `choice` and `confidence` are the first rating's."""
    by_id = {}
    rows = list(ds)
    for pair, row in zip(data.comparisons_to_pairs(rows), rows):
        key = data.pair_id(pair)
        if key not in by_id:
            by_id[key] = dict(pair, choices=[], workers=[])
        by_id[key]["choices"].append(pair["choice"])
        by_id[key]["workers"].append(row.get("worker"))
    return list(by_id.values())


def _seeded_order(pairs: list[dict], seed) -> list[dict]:
    """`pairs` in the order of a hash of (seed, pair id): the same in every process and on every machine."""
    return sorted(pairs, key=lambda p: hashlib.sha256(f"class-pairs:{seed}:{data.pair_id(p)}".encode()).hexdigest())


def real_class_pairs(n: int = REAL_CLASS_N, n_multi: int = REAL_CLASS_MULTI, seed: int = 0) -> list[dict]:
    """`n` pairs of the TEST half of OpenAI's batch 13 (never the selection half, where prompts and exemplars are
    chosen): `n_multi` of those labelled by several workers (so the class meets more than one human on a pair)
    and the rest labelled once, each picked by a seeded hash of the pair id, and the whole shown in the order of
    another."""
    pairs = grouped_pairs(data.load_comparisons("openai-batch13", split="test"))
    multi = _seeded_order([p for p in pairs if len(p["choices"]) > 1], seed)[:n_multi]
    single = _seeded_order([p for p in pairs if len(p["choices"]) == 1], seed)[:n - len(multi)]
    return _seeded_order(multi + single, f"{seed}:shown")  # a second hash, so both kinds are mixed


def toy_class_rows(n: int = TOY_CLASS_N, raters: int = TOY_CLASS_RATERS, seed: int = 0) -> list[dict]:
    """The toy class pairs in the comparisons schema, the content of TOY_CLASS_FILE: `n` toy posts (label split,
    from TOY_CLASS_START on), each with two policy-like summaries (`sample_policy_pair`) rated by `raters`
    SIMULATED raters (`toy_world.human_preference`), one row per rating, marked simulated in `worker` and `batch`."""
    from . import toy_world
    from .toy_world.corruptions import sample_policy_pair

    rng = random.Random(f"class-pairs-toy:{seed}")
    rows = []
    for post in toy_class_posts(n, seed).values():
        a, b, kind_a, kind_b = sample_policy_pair(post, rng)
        for k in range(raters):
            choice, confidence = toy_world.human_preference(post, a, b, rng)
            row = toy_world.comparison_row(post, a, b, choice, confidence, policies=(f"toy:{kind_a}", f"toy:{kind_b}"),
                                           split="class")
            rows.append(dict(row, worker=f"simulated-rater-{k + 1}", batch="toy class pairs (SIMULATED raters)"))
    return rows


def write_toy_class_pairs(path=TOY_CLASS_FILE) -> Path:
    """Write `toy_class_rows()` to `path` (how TOY_CLASS_FILE was made; a test checks the file still matches)."""
    write_jsonl(path, toy_class_rows())
    return Path(path)


def toy_class_posts(n: int = TOY_CLASS_N, seed: int = 0) -> dict:
    """The toy-world posts of the toy class pairs, by id, for the gold rater and `toy_student`."""
    from .toy_world.posts import post_at

    posts = (post_at("label", TOY_CLASS_START + i, seed) for i in range(n))
    return {p.id: p for p in posts}


def class_pairs(source: str = "toy") -> list[dict]:
    """The fixed pairs the class labels, the same on every laptop: "toy" (TOY_CLASS_FILE), "openai-batch13"
    (`real_class_pairs`) or the path of a comparisons file (every pair in it). Flat pairs as
    `data.comparisons_to_pairs` makes them, one per pair with every rater's `choices` and `workers`."""
    if source == "toy":
        return grouped_pairs(data.load_comparisons(str(TOY_CLASS_FILE)))
    if source == "openai-batch13":
        return real_class_pairs()
    if not Path(source).expanduser().exists():
        raise FileNotFoundError(f"{source}: not one of {list(CLASS_PAIR_SOURCES)} and no such file")
    return grouped_pairs(data.load_comparisons(source))


# ----------------------------------------------------------------------------- one answer
def confidence_from(choice: int, strength: int) -> int:
    """The 9-point scale value for a choice (0 = summary_a) and a strength 1-4: 0 -> 5 - s, 1 -> 5 + s."""
    if choice not in (0, 1) or isinstance(choice, bool):
        raise ValueError(f"choice must be 0 or 1, got {choice!r}")
    if strength not in (1, 2, 3, 4) or isinstance(strength, bool):
        raise ValueError(f"strength must be 1, 2, 3 or 4, got {strength!r}")
    return 5 - strength if choice == 0 else 5 + strength


def make_answer(student: str, pair: dict, shown_first: str, picked_position: int, strength_: int) -> dict:
    """The record for a click on `pair`: the student saw summary `shown_first` ("a"/"b") on the left and picked
    position `picked_position` (0 = left, 1 = right) with strength 1-4. Converts the screen position to
    the schema's terms (choice 0 = summary_a) and the strength to the 9-point scale, and names the pair
    (`data.pair_id`) and the texts shown (`pair_texts_hash`)."""
    if shown_first not in ("a", "b"):
        raise ValueError(f"shown_first must be 'a' or 'b', got {shown_first!r}")
    if picked_position not in (0, 1):
        raise ValueError(f"picked_position must be 0 (left) or 1 (right), got {picked_position!r}")
    choice = 0 if (picked_position == 0) == (shown_first == "a") else 1  # picked summary_a?
    record = {"student": str(student), "pair_id": data.pair_id(pair), "texts": pair_texts_hash(pair),
              "shown_first": shown_first, "choice": choice, "confidence": confidence_from(choice, strength_),
              "time": datetime.now().isoformat(timespec="seconds")}
    check_answer(record)
    return record


def check_answer(record, where: str = "answer") -> None:
    """Raise AnswerError (naming `where`, e.g. "file.jsonl:3", and the field) unless `record` is a valid answer."""
    def fail(field, problem):
        raise AnswerError(f"{where}: field '{field}' {problem}")

    if not isinstance(record, dict):
        raise AnswerError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for field in FIELDS:
        if field not in record:
            fail(field, "is missing")
    for field in ("student", "pair_id", "texts"):
        if not isinstance(record[field], str) or not record[field].strip():
            fail(field, f"must be a non-empty string, got {record[field]!r}")
    if record["shown_first"] not in ("a", "b"):
        fail("shown_first", f"must be 'a' or 'b', got {record['shown_first']!r}")
    choice, conf = record["choice"], record["confidence"]
    if isinstance(choice, bool) or choice not in (0, 1):
        fail("choice", f"must be 0 or 1 (0 = summary_a), got {choice!r}")
    if isinstance(conf, bool) or not isinstance(conf, int) or conf not in range(1, 10) or conf == 5:
        fail("confidence", f"must be an int in 1-4 or 6-9 (the 9-point preference scale, never 5), got {conf!r}")
    if (conf < 5) != (choice == 0):
        fail("confidence", f"{conf} contradicts choice {choice} (1-4 go with choice 0, 6-9 with choice 1)")


def mismatch(record: dict, by_id: dict) -> str | None:
    """Why `record` does not belong to the pairs `by_id` (pair id -> pair), or None when it does: its pair is
    unknown, or the texts it was given for (`texts`) are not that pair's."""
    pair = by_id.get(record["pair_id"])
    if pair is None:
        return f"pair {record['pair_id']} is not one of the class pairs"
    if record["texts"] != pair_texts_hash(pair):
        return (f"pair {record['pair_id']}: the answer was given on other texts (texts {record['texts']}, the pair's "
                f"are {pair_texts_hash(pair)}): an edited post or summary")
    return None


def _by_pair_id(pairs: list[dict]) -> dict:
    return {data.pair_id(p): p for p in pairs}


def _check_joined(answers: list[dict], by_id: dict) -> None:
    """Raise KeyError for an answer about a pair not in `by_id`, AnswerError for one about other texts."""
    unknown = sorted({a["pair_id"] for a in answers} - set(by_id))
    if unknown:
        raise KeyError(f"answers name pairs that are not in `pairs`: {unknown[:5]}")
    for a in answers:
        problem = mismatch(a, by_id)
        if problem:
            raise AnswerError(f"answer of {a['student']}: {problem}")


# ----------------------------------------------------------------------------- files
def save_answer(path, record: dict, pair: dict | None = None) -> None:
    """Append one answer to the JSONL file at `path` (created with its folder if missing), flushed and
    fsynced: once this returns, the answer survives a kernel restart. With `pair`, the answer must be about
    that pair and its texts (AnswerError if not)."""
    check_answer(record)
    if pair is not None:
        problem = mismatch(record, _by_pair_id([pair]))
        if problem:
            raise AnswerError(f"answer of {record['student']}: {problem}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _read_lines(path: Path):
    """(line number, answer or None, problem or None, torn) for each non-empty line of an answer file;
    `torn` marks an unreadable last line without a newline (the kernel died while writing it)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        torn = number == len(lines) and not text.endswith("\n")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, None, f"{path}:{number}: not valid JSON ({e.msg})", torn
            continue
        try:
            check_answer(record, where=f"{path}:{number}")
        except AnswerError as e:
            yield number, None, str(e), False
            continue
        yield number, record, None, False


def load_answers(path) -> list[dict]:
    """Every answer in the JSONL file at `path`, in file order ([] if the file does not exist). A bad line
    raises AnswerError naming file and line, except a torn last line (no newline: the kernel died while
    writing it), which is skipped with a warning."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for number, record, problem, torn in _read_lines(path):
        if torn:
            warnings.warn(f"{path}:{number}: incomplete last line skipped (interrupted write)")
        elif problem:
            raise AnswerError(problem)
        else:
            rows.append(record)
    return rows


def unique_answers(answers: list[dict]) -> list[dict]:
    """One answer per (student, pair): the latest one wins (a student who answers again changed their mind)."""
    latest = {}
    for record in answers:
        key = (record["student"], record["pair_id"])
        latest.pop(key, None)  # keep the order of the latest answers
        latest[key] = record
    return list(latest.values())


def merge_class_files(files, out, pairs: list[dict]) -> dict:
    """Merge students' answer files into one file at `out`, one answer per (student, pair) (the latest,
    in the order the files are given), keeping only answers that belong to `pairs` (the class pairs).

    A line that cannot be used is refused and the rest of its file is still merged: a line that is not a
    valid answer (bad JSON, a missing or wrong field, a torn last line), and an answer whose pair is not in
    `pairs` or whose `texts` are not its pair's (an edited post or summary). One student's broken or
    tampered line then costs that answer, never the class's merge. Each refusal is one line in the returned
    `refusals`, naming the file, the line and (where readable) the pair id. A missing file raises
    AnswerError; when no answer is left to merge, AnswerError is raised too and nothing is written.
    Returns {files, rows, answers, duplicates, refused, students, pairs, refusals}."""
    files, rows, refusals = list(files), [], []
    by_id = _by_pair_id(pairs)
    for file in files:
        path = Path(file)
        if not path.exists():
            raise AnswerError(f"{file}: no such file")
        for number, record, problem, torn in _read_lines(path):
            if torn:
                problem = f"{path}:{number}: incomplete last line (interrupted write)"
            elif record is not None:
                problem = mismatch(record, by_id)
                problem = problem and f"{path}:{number}: {problem}"
            if problem:
                refusals.append(problem)
            else:
                rows.append(record)
    if not rows:
        raise AnswerError(f"no answer to merge from {len(files)} files ({len(refusals)} refused)"
                          + "".join(f"\n  {r}" for r in refusals[:20]))
    merged = unique_answers(rows)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(out, merged)  # atomically: a temp file, then os.replace
    return {"files": len(files), "rows": len(rows), "answers": len(merged), "duplicates": len(rows) - len(merged),
            "refused": len(refusals), "students": len({r["student"] for r in merged}),
            "pairs": len({r["pair_id"] for r in merged}), "refusals": refusals}


# ----------------------------------------------------------------------------- what the class said
def _agree(choice: int, p_a: float) -> float:
    """1 if `choice` (0 = summary_a) matches the side `p_a` favours, 0 if not, 1/2 on an exact tie."""
    return 0.5 if p_a == 0.5 else float((choice == 0) == (p_a > 0.5))


def _p_a_by_pair(labels) -> dict:
    """pair id -> P(summary_a better), from a dict keyed by `data.pair_id` or label rows carrying `pair_id`."""
    if isinstance(labels, dict):
        return {str(k): float(v) for k, v in labels.items()}
    rows = list(labels or [])
    if any("pair_id" not in x for x in rows):
        raise ValueError("label rows must carry `pair_id` (data.pair_id of their pair; pipeline.with_pair_ids adds "
                         "it): a post id does not name a pair")
    return {str(x["pair_id"]): float(x["p_a"]) for x in rows}


def _rater_choices(pair: dict) -> list[int]:
    """The dataset raters' choices on `pair`: every rating (`choices`) where several raters labelled it."""
    return [c for c in pair.get("choices") or [pair.get("choice")] if c in (0, 1)]


def _choices_by_pair(answers: list[dict]) -> dict[str, list[int]]:
    """pair id -> the choices of the answers about it, in answer order."""
    by_pair = defaultdict(list)
    for a in answers:
        by_pair[a["pair_id"]].append(a["choice"])
    return by_pair


def class_name(answers: list[dict]) -> str:
    """How the table names the class: "class", or "class (SIMULATED)" when its answers are simulated
    ("class (k of n answers SIMULATED)" when some are)."""
    k = sum(bool(a.get("simulated")) for a in answers)
    return "class" if k == 0 else "class (SIMULATED)" if k == len(answers) else \
        f"class ({k} of {len(answers)} answers SIMULATED)"


def compare_with(answers: list[dict], pairs: list[dict], ai_labels=None, gold=None, raters: str = "simulated human raters",
                 n_boot: int = 2000, seed: int = 0) -> list[dict]:
    """The agreement table: how often the class's answers agree with each other judge, with bootstrap 95% CIs.
    answers: class answers (latest per student and pair is used), joined to `pairs` by `data.pair_id`; an answer
    about an unknown pair raises KeyError, one about other texts AnswerError. pairs: the pairs shown, with the
    dataset raters' `choice` (every rating in `choices` where several raters labelled a pair: in the toy world the
    simulated human raters, on real data OpenAI's workers). ai_labels: the AI labeler's rows {pair_id, p_a} (or a
    dict pair id -> p_a). gold: dict pair id -> P(summary_a better) under the gold rater (toy world only).
    Each row: {judge, agreement, ci_low, ci_high, n}. The class's name in a row says SIMULATED when its answers are.
    n counts answers in the class rows (against several raters, an answer scores the share of them it agrees
    with), pairs of answers in the class-vs-class row, and, in the reference rows at the bottom (the other judges
    on the same pairs), pairs or, for the raters against each other, pairs of ratings of one pair."""
    answers = unique_answers(answers)
    by_id = _by_pair_id(pairs)
    _check_joined(answers, by_id)
    ai, gold = _p_a_by_pair(ai_labels), _p_a_by_pair(gold)
    who = class_name(answers)
    rows = []

    def add(judge, scores):
        b = bootstrap_mean(scores, n_boot=n_boot, seed=seed)
        rows.append({"judge": judge, "agreement": b["value"], "ci_low": b["ci_low"], "ci_high": b["ci_high"], "n": b["n"]})

    def share(choice, pair):  # the share of the pair's raters who made `choice`
        rated = _rater_choices(pair)
        return sum(c == choice for c in rated) / len(rated)

    if ai:
        add(f"{who} vs AI labeler", [_agree(a["choice"], ai[a["pair_id"]]) for a in answers if a["pair_id"] in ai])
    add(f"{who} vs {raters}", [share(a["choice"], by_id[a["pair_id"]]) for a in answers
                               if _rater_choices(by_id[a["pair_id"]])])
    if gold:
        add(f"{who} vs gold rater", [_agree(a["choice"], gold[a["pair_id"]]) for a in answers if a["pair_id"] in gold])
    by_pair = _choices_by_pair(answers)
    between = [float(x == y) for c in by_pair.values() for x, y in itertools.combinations(c, 2)]
    if between:
        add(f"{who} vs class (two students, same pair)", between)
    # reference rows: the other judges against each other on the same pairs the class answered
    answered = {i: by_id[i] for i in by_pair}
    if ai:
        add(f"(reference) AI labeler vs {raters}", [share(0 if ai[i] > 0.5 else 1, p) if ai[i] != 0.5 else 0.5
                                                    for i, p in answered.items() if i in ai and _rater_choices(p)])
        if gold:
            add("(reference) AI labeler vs gold rater", [0.5 if ai[i] == 0.5 else _agree(0 if ai[i] > 0.5 else 1, gold[i])
                                                         for i in answered if i in ai and i in gold])
    several = [float(x == y) for p in answered.values() for x, y in itertools.combinations(_rater_choices(p), 2)]
    if several:
        add(f"(reference) {raters} vs each other (two raters, same pair)", several)
    return rows


def class_labels(answers: list[dict], pairs: list[dict]) -> tuple[list[dict], list[float]]:
    """The class's soft labels for the reward model: for each answered pair (in `pairs` order, joined by
    `data.pair_id`), the share of the class's answers that preferred summary_a. With one student per pair this
    is a hard 0/1 label; with many it is a soft label, like the AI labeler's. Returns (pairs, p_a) for
    `reward.train_reward_model`."""
    answers = unique_answers(answers)
    by_id = _by_pair_id(pairs)
    _check_joined(answers, by_id)
    votes = _choices_by_pair(answers)
    kept = [p for p in pairs if data.pair_id(p) in votes]
    return kept, [sum(c == 0 for c in votes[data.pair_id(p)]) / len(votes[data.pair_id(p)]) for p in kept]


def simulated_class(pairs: list[dict], rate, n_students: int = 6, per_student: int = 8, seed: int = 0) -> list[dict]:
    """Answers of a SIMULATED class, for running the notebook without students (and for tests): each of
    `n_students` ("simulated-1", ...) answers `per_student` random pairs, each answer marked simulated. Like a
    student at the widget, `rate(pair, rng) -> (choice, strength)` picks a summary and says how sure it is."""
    rng = random.Random(f"simulated-class:{seed}")
    answers = []
    for s in range(n_students):
        student = f"simulated-{s + 1}"
        for pair in rng.sample(pairs, min(per_student, len(pairs))):
            choice, strength_ = rate(pair, rng)
            key = data.pair_id(pair)
            record = {"student": student, "pair_id": key, "texts": pair_texts_hash(pair),
                      "shown_first": display_order(student, key, seed), "choice": int(choice),
                      "confidence": confidence_from(int(choice), int(strength_)), "time": "simulated",
                      "simulated": True}
            check_answer(record, where=f"simulated answer of {student}")
            answers.append(record)
    return answers


def load_class(folder, pairs: list[dict] | None = None) -> list[dict]:
    """Every answer in the answer files (*.jsonl) of `folder` (e.g. <run>/class/: students' files and merged
    ones alike), one per student and pair. With `pairs`, only the answers about them (by `data.pair_id`) on
    their texts; an answer about a pair's id on other texts is left out with a warning. [] if there are none."""
    files = sorted(Path(folder).glob("*.jsonl")) if Path(folder).is_dir() else []
    answers = unique_answers([a for f in files for a in load_answers(f)])
    if pairs is not None:
        by_id = _by_pair_id(pairs)
        kept = []
        for a in answers:
            problem = mismatch(a, by_id)
            if problem is None:
                kept.append(a)
            elif a["pair_id"] in by_id:
                warnings.warn(f"{folder}: answer of {a['student']} left out: {problem}")
        answers = kept
    return answers


def toy_student(posts: dict):
    """A simulated student for the toy world, as `simulated_class` wants it: the toy world's simulated rater
    picks a summary (P(A) = sigmoid((q_A - q_B) / tau)); how sure (1-4) grows with the gold-quality gap, one
    step per tau. `posts` maps post id (a pair's `id`) -> toy-world Post, e.g. `toy_class_posts()`."""
    from . import toy_world

    def rate(pair, rng):
        post = posts[pair["id"]]
        choice, _ = toy_world.human_preference(post, pair["summary_a"], pair["summary_b"], rng)
        gap = toy_world.gold_score(post, pair["summary_a"]) - toy_world.gold_score(post, pair["summary_b"])
        return choice, min(4, 1 + int(abs(gap) / toy_world.TAU))

    return rate


# ----------------------------------------------------------------------------- the widget
def display_order(student: str, pair, seed: int = 0) -> str:
    """Which summary `student` sees on the left for `pair` (a pair or its `data.pair_id`): "a" or "b", random
    but fixed per (student, pair, seed), so a restarted kernel shows the same screen."""
    key = data.pair_id(pair) if isinstance(pair, dict) else str(pair)
    digest = hashlib.sha256(f"{seed}:{student}:{key}".encode()).digest()
    return "a" if digest[0] % 2 == 0 else "b"


def next_pair(pairs: list[dict], answers: list[dict], student: str):
    """The first pair in `pairs` that `student` has not answered yet (None when all are done)."""
    done = {a["pair_id"] for a in answers if a["student"] == student}
    return next((p for p in pairs if data.pair_id(p) not in done), None)


def labeling_widget(pairs: list[dict], path, student: str, seed: int = 0, max_post_chars: int = 1500):
    """An ipywidgets labeling screen: a post, its two summaries side by side in a random order, a strength
    slider (1-4) and two buttons. A click calls `make_answer` and `save_answer(path, ...)` and moves on to
    the next pair this student has not answered (`next_pair`), so it resumes after a restart.
    Returns the widget box."""
    import ipywidgets as w

    path = Path(path)
    ids = {data.pair_id(p) for p in pairs}
    left, right = (w.HTML(layout=w.Layout(width="48%", border="1px solid #999", padding="6px")) for _ in range(2))
    post, status = w.HTML(), w.HTML()
    strength_ = w.SelectionSlider(options=[(f"{k} {v}", k) for k, v in STRENGTH_WORDS.items()], value=2,
                                  description="how sure")
    b_left, b_right = w.Button(description="left is better"), w.Button(description="right is better")
    state = {"pair": None, "shown_first": None}

    def esc(text):
        return html.escape(text or "", quote=False).replace("\n", "<br>")

    def show():
        answers = load_answers(path)
        n_done = sum(a["student"] == student and a["pair_id"] in ids for a in unique_answers(answers))
        pair = next_pair(pairs, answers, student)
        state["pair"] = pair
        if pair is None:
            post.value, left.value, right.value = "", "", ""
            b_left.disabled = b_right.disabled = True
            status.value = f"<b>All {len(pairs)} pairs done, thank you.</b> Answers in {esc(str(path))}"
            return
        state["shown_first"] = display_order(student, data.pair_id(pair), seed)
        first, second = (pair["summary_a"], pair["summary_b"]) if state["shown_first"] == "a" else \
            (pair["summary_b"], pair["summary_a"])
        body = pair.get("post") or pair.get("prompt", "")
        post.value = f"<b>{esc(pair.get('title') or '')}</b><br>{esc(body[:max_post_chars])}"
        left.value, right.value = f"<b>Left</b><br>{esc(first)}", f"<b>Right</b><br>{esc(second)}"
        status.value = f"{student}: pair {n_done + 1} of {len(pairs)} (saved to {esc(str(path))})"

    def on_click(position):
        def handler(_button):
            if state["pair"] is None:
                return
            pair = state["pair"]
            save_answer(path, make_answer(student, pair, state["shown_first"], position, strength_.value), pair=pair)
            show()
        return handler

    b_left.on_click(on_click(0))
    b_right.on_click(on_click(1))
    show()
    return w.VBox([post, w.HBox([left, right]), strength_, w.HBox([b_left, b_right]), status])
