"""The class as the raters: students label pairs, and their labels are compared with the AI labeler's.

Every answer is one JSON line in the comparisons schema's terms (OpenAI's `summarize_from_feedback`):

    {"student": "ana", "pair_id": "label-00012", "shown_first": "b", "choice": 0, "confidence": 2,
     "time": "2024-05-02T10:31:07"}

- `shown_first`: which summary the student saw on the left ("a" = summary_a); the order is random
  per student and pair, so the class cannot have a position bias in the kit's favour.
- `choice`: the summary preferred, 0 = summary_a, 1 = summary_b (never "left"/"right").
- `confidence`: the real data's 9-point preference scale: 1-4 = summary 0 (summary_a) preferred,
  1 = definitely; 6-9 = summary 1 preferred, 9 = definitely; never 5. Strength = |confidence - 5|.

`save_answer` appends one line and fsyncs it, so an answer survives a kernel restart or a crash.
An instructor merges the students' files (`rlaif class-merge FILES... --out FILE`), compares the
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

from .run_folder import write_jsonl
from .stats import bootstrap_mean

FIELDS = ("student", "pair_id", "shown_first", "choice", "confidence")
STRENGTH_WORDS = {1: "slightly", 2: "clearly", 3: "strongly", 4: "definitely"}


class AnswerError(ValueError):
    """A class answer that does not fit the schema; the message names the file, line and field."""


# ----------------------------------------------------------------------------- one answer
def confidence_from(choice: int, strength: int) -> int:
    """The 9-point scale value for a choice (0 = summary_a) and a strength 1-4: 0 -> 5 - s, 1 -> 5 + s."""
    if choice not in (0, 1) or isinstance(choice, bool):
        raise ValueError(f"choice must be 0 or 1, got {choice!r}")
    if strength not in (1, 2, 3, 4) or isinstance(strength, bool):
        raise ValueError(f"strength must be 1, 2, 3 or 4, got {strength!r}")
    return 5 - strength if choice == 0 else 5 + strength


def make_answer(student: str, pair_id, shown_first: str, picked_position: int, strength_: int) -> dict:
    """The record for a click: the student saw summary `shown_first` ("a"/"b") on the left and picked
    position `picked_position` (0 = left, 1 = right) with strength 1-4. Converts the screen position to
    the schema's terms (choice 0 = summary_a) and the strength to the 9-point scale."""
    if shown_first not in ("a", "b"):
        raise ValueError(f"shown_first must be 'a' or 'b', got {shown_first!r}")
    if picked_position not in (0, 1):
        raise ValueError(f"picked_position must be 0 (left) or 1 (right), got {picked_position!r}")
    choice = 0 if (picked_position == 0) == (shown_first == "a") else 1  # picked summary_a?
    record = {"student": str(student), "pair_id": str(pair_id), "shown_first": shown_first, "choice": choice,
              "confidence": confidence_from(choice, strength_),
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
    for field in ("student", "pair_id"):
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


# ----------------------------------------------------------------------------- files
def save_answer(path, record: dict) -> None:
    """Append one answer to the JSONL file at `path` (created with its folder if missing), flushed and
    fsynced: once this returns, the answer survives a kernel restart."""
    check_answer(record)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def load_answers(path) -> list[dict]:
    """Every answer in the JSONL file at `path`, in file order ([] if the file does not exist). A bad line
    raises AnswerError naming file and line, except a torn last line (no newline: the kernel died while
    writing it), which is skipped with a warning."""
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        torn = number == len(lines) and not text.endswith("\n")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if torn:
                warnings.warn(f"{path}:{number}: incomplete last line skipped (interrupted write)")
                continue
            raise AnswerError(f"{path}:{number}: not valid JSON ({e.msg})") from None
        check_answer(record, where=f"{path}:{number}")
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


def merge_class_files(files, out) -> dict:
    """Merge students' answer files into one file at `out`, one answer per (student, pair) (the latest,
    in the order the files are given). Every line is checked first: a bad one raises AnswerError naming
    its file and line, and nothing is written. Returns counts {files, rows, answers, duplicates, students, pairs}."""
    files, rows = list(files), []
    for file in files:
        if not Path(file).exists():
            raise AnswerError(f"{file}: no such file")
        rows.extend(load_answers(file))
    merged = unique_answers(rows)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(out, merged)  # atomically: a temp file, then os.replace
    return {"files": len(files), "rows": len(rows), "answers": len(merged), "duplicates": len(rows) - len(merged),
            "students": len({r["student"] for r in merged}), "pairs": len({r["pair_id"] for r in merged})}


# ----------------------------------------------------------------------------- what the class said
def _agree(choice: int, p_a: float) -> float:
    """1 if `choice` (0 = summary_a) matches the side `p_a` favours, 0 if not, 1/2 on an exact tie."""
    return 0.5 if p_a == 0.5 else float((choice == 0) == (p_a > 0.5))


def _p_a_by_id(labels) -> dict:
    if isinstance(labels, dict):
        return {str(k): float(v) for k, v in labels.items()}
    return {str(x["id"]): float(x["p_a"]) for x in labels or []}


def _choices_by_pair(answers: list[dict]) -> dict[str, list[int]]:
    """pair id -> the choices of the answers about it, in answer order."""
    by_pair = defaultdict(list)
    for a in answers:
        by_pair[a["pair_id"]].append(a["choice"])
    return by_pair


def compare_with(answers: list[dict], pairs: list[dict], ai_labels=None, gold=None, raters: str = "simulated human raters",
                 n_boot: int = 2000, seed: int = 0) -> list[dict]:
    """The agreement table: how often the class's answers agree with each other judge, with bootstrap 95% CIs.
    answers: class answers (latest per student and pair is used). pairs: the pairs shown, with `id` and the
    dataset raters' `choice` (in the toy world the simulated human raters; on real data OpenAI's workers).
    ai_labels: the AI labeler's rows {id, p_a} (or a dict id -> p_a). gold: dict id -> P(summary_a better)
    under the gold rater (toy world only; None elsewhere). Each row: {judge, agreement, ci_low, ci_high, n}
    where n counts answers (the class rows) or pairs (the reference rows at the bottom, same pairs)."""
    answers = unique_answers(answers)
    by_id = {str(p["id"]): p for p in pairs}
    unknown = sorted({a["pair_id"] for a in answers} - set(by_id))
    if unknown:
        raise KeyError(f"answers name pairs that are not in `pairs`: {unknown[:5]}")
    ai, gold = _p_a_by_id(ai_labels), _p_a_by_id(gold)
    rows = []

    def add(judge, scores):
        b = bootstrap_mean(scores, n_boot=n_boot, seed=seed)
        rows.append({"judge": judge, "agreement": b["value"], "ci_low": b["ci_low"], "ci_high": b["ci_high"], "n": b["n"]})

    add("class vs AI labeler", [_agree(a["choice"], ai[a["pair_id"]]) for a in answers if a["pair_id"] in ai])
    add(f"class vs {raters}", [float(a["choice"] == by_id[a["pair_id"]]["choice"]) for a in answers
                               if by_id[a["pair_id"]].get("choice") in (0, 1)])
    if gold:
        add("class vs gold rater", [_agree(a["choice"], gold[a["pair_id"]]) for a in answers if a["pair_id"] in gold])
    by_pair = _choices_by_pair(answers)
    between = [float(x == y) for c in by_pair.values() for x, y in itertools.combinations(c, 2)]
    if between:
        add("class vs class (two students, same pair)", between)
    # reference rows: the other judges against each other on the same pairs the class answered
    answered = [by_id[i] for i in by_pair]
    if ai:
        add(f"(reference) AI labeler vs {raters}", [_agree(p["choice"], ai[str(p["id"])]) for p in answered
                                                    if str(p["id"]) in ai and p.get("choice") in (0, 1)])
        if gold:
            add("(reference) AI labeler vs gold rater", [0.5 if ai[i] == 0.5 else _agree(0 if ai[i] > 0.5 else 1, gold[i])
                                                         for i in by_pair if i in ai and i in gold])
    return rows


def class_labels(answers: list[dict], pairs: list[dict]) -> tuple[list[dict], list[float]]:
    """The class's soft labels for the reward model: for each answered pair (in `pairs` order), the share
    of the class's answers that preferred summary_a. With one student per pair this is a hard 0/1 label;
    with many it is a soft label, like the AI labeler's. Returns (pairs, p_a) for `reward.train_reward_model`."""
    votes = _choices_by_pair(unique_answers(answers))
    kept = [p for p in pairs if str(p["id"]) in votes]
    return kept, [sum(c == 0 for c in votes[str(p["id"])]) / len(votes[str(p["id"])]) for p in kept]


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
            record = {"student": student, "pair_id": str(pair["id"]), "shown_first": display_order(student, pair["id"], seed),
                      "choice": int(choice), "confidence": confidence_from(int(choice), int(strength_)),
                      "time": "simulated", "simulated": True}
            check_answer(record, where=f"simulated answer of {student}")
            answers.append(record)
    return answers


def load_class(folder, pair_ids=None) -> list[dict]:
    """Every answer in the answer files (*.jsonl) of `folder` (e.g. <run>/class/: students' files and merged
    ones alike), one per student and pair, optionally only those about `pair_ids`. [] if there are none."""
    files = sorted(Path(folder).glob("*.jsonl")) if Path(folder).is_dir() else []
    answers = unique_answers([a for f in files for a in load_answers(f)])
    if pair_ids is not None:
        keep = {str(i) for i in pair_ids}
        answers = [a for a in answers if a["pair_id"] in keep]
    return answers


def toy_student(posts: dict):
    """A simulated student for the toy world, as `simulated_class` wants it: the toy world's simulated rater
    picks a summary (P(A) = sigmoid((q_A - q_B) / tau)); how sure (1-4) grows with the gold-quality gap, one
    step per tau. `posts` maps pair id -> toy-world Post."""
    from . import toy_world

    def rate(pair, rng):
        post = posts[pair["id"]]
        choice, _ = toy_world.human_preference(post, pair["summary_a"], pair["summary_b"], rng)
        gap = toy_world.gold_score(post, pair["summary_a"]) - toy_world.gold_score(post, pair["summary_b"])
        return choice, min(4, 1 + int(abs(gap) / toy_world.TAU))

    return rate


# ----------------------------------------------------------------------------- the widget
def display_order(student: str, pair_id, seed: int = 0) -> str:
    """Which summary `student` sees on the left for `pair_id`: "a" or "b", random but fixed per (student,
    pair, seed), so a restarted kernel shows the same screen."""
    digest = hashlib.sha256(f"{seed}:{student}:{pair_id}".encode()).digest()
    return "a" if digest[0] % 2 == 0 else "b"


def next_pair(pairs: list[dict], answers: list[dict], student: str):
    """The first pair in `pairs` that `student` has not answered yet (None when all are done)."""
    done = {a["pair_id"] for a in answers if a["student"] == student}
    return next((p for p in pairs if str(p["id"]) not in done), None)


def labeling_widget(pairs: list[dict], path, student: str, seed: int = 0, max_post_chars: int = 1500):
    """An ipywidgets labeling screen: a post, its two summaries side by side in a random order, a strength
    slider (1-4) and two buttons. A click calls `make_answer` and `save_answer(path, ...)` and moves on to
    the next pair this student has not answered (`next_pair`), so it resumes after a restart.
    Returns the widget box."""
    import ipywidgets as w

    path = Path(path)
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
        n_done = sum(a["student"] == student for a in unique_answers(answers))
        pair = next_pair(pairs, answers, student)
        state["pair"] = pair
        if pair is None:
            post.value, left.value, right.value = "", "", ""
            b_left.disabled = b_right.disabled = True
            status.value = f"<b>All {len(pairs)} pairs done, thank you.</b> Answers in {esc(str(path))}"
            return
        state["shown_first"] = display_order(student, pair["id"], seed)
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
            save_answer(path, make_answer(student, state["pair"]["id"], state["shown_first"], position, strength_.value))
            show()
        return handler

    b_left.on_click(on_click(0))
    b_right.on_click(on_click(1))
    show()
    return w.VBox([post, w.HBox([left, right]), strength_, w.HBox([b_left, b_right]), status])
