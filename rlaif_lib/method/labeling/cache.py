"""The labels' disk cache: a rerun (after kill -9 too) labels only the pairs that are missing.

Append-only JSONL, one line per pair {"key", "id", "result"}, flushed and fsynced per batch. The key
is a sha256 of (labeler, label-relevant config, templates, exemplars, pair texts); a partially
written last line is dropped on open. One writer at a time: a `filelock.FileLock` on the sibling
file `<cache>.lock` (works on Linux, macOS and Windows).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from filelock import FileLock

from .prompts import TEMPLATES_SHA, LabelConfig


def pair_key(labeler_name: str, config: LabelConfig, exemplars, pair: dict) -> str:
    """The cache key of one pair: everything that changes its label, and nothing else."""
    payload = [labeler_name, config.key_fields(), TEMPLATES_SHA,
               [[e.get("id"), e["post"], e["summary_a"], e["summary_b"], e["choice"], e.get("rationale")]
                for e in exemplars],
               [str(pair["id"]), pair["post"], pair["summary_a"], pair["summary_b"]]]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class LabelCache:
    """Append-only JSONL of {"key", "id", "result"}; `done` maps key -> result. Held open (and
    locked) from construction to `close()`."""

    def __init__(self, path):
        self.path, self.done = Path(path), {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(self.path) + ".lock")
        self.lock.acquire()
        self.file = open(self.path, "a+b")
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
        """Append records and make them durable (flush + fsync) before returning."""
        self.file.write("".join(json.dumps(r) + "\n" for r in records).encode())
        self.file.flush()
        os.fsync(self.file.fileno())
        for r in records:
            self.done[r["key"]] = r["result"]

    def close(self):
        """Close the file and release the lock."""
        self.file.close()
        self.lock.release()
