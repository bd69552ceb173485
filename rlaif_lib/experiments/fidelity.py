"""How faithful the toy world is to the real task: the same measurements, by the same functions, on a toy-world
run (whose "human" labels, judge and gold scores are SIMULATED raters) and on OpenAI's real human comparisons
(batch 13: 1,097 judgments of one pair of OpenAI policies, a slice, not the paper's data).

    the longer summary wins        `method.labeling.baselines.longer_wins` on every human-labelled pair
    two raters agree               share of agreeing pairs of labels on the same pair (toy: two simulated raters on
                                   each pair of the run; real: OpenAI's workers on the pairs several of them judged)
    labelers' alignment            `method.labeling.alignment` of a coin flip, longer-wins, MiniLM similarity and
                                   SmolLM2-135M on held-out pairs (toy: the run's test pairs; real: the test half)
    the RL policy vs SFT           the human (toy: simulated) win rate of the RLHF policy over the SFT policy, and
                                   how much longer it writes (mean words, policy / SFT)

The real side costs MiniLM embeddings of the test half (about a minute on 2 cores), so it is measured once by
`real_side()` and committed (`assets/real/fidelity_batch13.json`; `python -m rlaif_lib.experiments.fidelity`
measures it again); the toy side comes from a run's metrics.json.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from .. import data
from ..method.labeling.baselines import embedding_labeler, length_labeler, longer_wins
from ..method.labeling.metrics import alignment
from ..stats import bootstrap_mean, fmt_ci, fmt_pct
from . import human_judgments as hj

REAL_ASSET = data.REAL / "fidelity_batch13.json"
MEASURES = ("human labels prefer the longer summary", "two raters agree", "alignment: a coin flip",
            "alignment: longer wins", "alignment: MiniLM similarity", "alignment: SmolLM2-135M",
            "human win rate, RL policy vs SFT", "RL policy's length / SFT's")


def _share(value: float | None, n: int | None) -> dict | None:
    """A share of n yes/no outcomes as {value, ci_low, ci_high, n}, the interval as `bootstrap_mean` gives it
    (the share alone when n is unknown)."""
    if value is None or not n:
        return value
    k = round(value * n)
    return bootstrap_mean([1.0] * k + [0.0] * (n - k))


def real_side() -> dict:
    """Every measure on OpenAI's batch 13 (`MEASURES`): the data's own properties on the whole file, the
    labelers on the test half (SmolLM2: the committed labels of the configuration chosen on the selection half)."""
    everything, test = hj.load_pairs(None), hj.load_pairs("test")
    asset = hj.load_smollm2_labels()
    chosen = asset["selection"]["chosen"]
    smollm2 = hj.labeler_labels(asset, "test")[chosen]
    distinct = hj.unique_pairs(test)
    lengths = hj.word_lengths(everything)
    return {
        "human labels prefer the longer summary": longer_wins(everything),
        "two raters agree": hj.inter_annotator_agreement(everything),
        "alignment: a coin flip": 0.5,
        "alignment: longer wins": alignment(length_labeler(test), test),
        "alignment: MiniLM similarity": hj.alignment_of(dict(zip(map(data.pair_id, distinct), embedding_labeler(distinct))), test),
        "alignment: SmolLM2-135M": hj.alignment_of(smollm2, test),
        "human win rate, RL policy vs SFT": hj.policy_win_rate(everything),
        "RL policy's length / SFT's": lengths["policy"]["value"] / lengths["other"]["value"],
        "_about": {"labeler": f"SmolLM2-135M-Instruct, {chosen}", "rl_policy": hj.RLHF_POLICY,
                   "sft_policy": hj.SFT_POLICY, "n_judgments": len(everything), "n_test": len(test),
                   "note": hj.SLICE_NOTE},
    }


def toy_side(metrics: dict) -> dict:
    """The same measures from a toy-world run's metrics.json (None where the run lacks one)."""
    lab, words = metrics.get("labeler") or {}, metrics.get("mean_words") or {}
    base = lab.get("baselines") or {}
    return {
        "human labels prefer the longer summary": metrics.get("human_longer_wins"),
        "two raters agree": _share(metrics.get("human_rater_agreement"), metrics.get("human_rater_agreement_n")),
        "alignment: a coin flip": 0.5,
        "alignment: longer wins": base.get("longer_wins"),
        "alignment: MiniLM similarity": base.get("minilm_similarity"),
        "alignment: SmolLM2-135M": lab.get("alignment_ci"),
        "human win rate, RL policy vs SFT": (metrics.get("win_rate") or {}).get("rlhf_vs_sft"),
        "RL policy's length / SFT's": words["rlhf"] / words["sft"] if words.get("rlhf") and words.get("sft") else None,
    }


def fidelity_table(metrics: dict, real: dict | None = None) -> str:
    """Markdown: every measure on the toy world (a run's metrics.json) beside OpenAI's real comparisons."""
    from ..method.labeling.tables import markdown_table

    real = real or load_real()
    toy = toy_side(metrics)

    def cell(key, value):
        if value is None:
            return "n/a"
        if key.endswith("/ SFT's"):
            return f"{value:.2f}x"
        return fmt_ci(value) if isinstance(value, dict) else fmt_pct(value)

    rows = [[key, cell(key, toy[key]), cell(key, real.get(key))] for key in MEASURES]
    header = ["measure (same definition both sides)", f"toy world ({metrics.get('preset')}, SIMULATED raters)",
              "real: OpenAI batch 13"]
    return markdown_table(header, rows)


def load_real(path=REAL_ASSET) -> dict:
    """The committed real side (`real_side`, measured once: PRECOMPUTED)."""
    return json.loads(Path(path).read_text())


def write_real(path=REAL_ASSET) -> dict:
    """Measure the real side again and commit it to `path`, with the date."""
    real = dict(real_side(), measured=f"python -m rlaif_lib.experiments.fidelity, {date.today()}")
    Path(path).write_text(json.dumps(real, indent=1) + "\n")
    return real


if __name__ == "__main__":
    print(json.dumps(write_real(), indent=1))
