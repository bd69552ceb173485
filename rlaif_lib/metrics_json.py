"""metrics.json: the headline numbers of each stage, flattened the way the report, README and
notebooks read them. The keys are a public format; keep them stable."""
from __future__ import annotations

from .method.labeling.metrics import position_direction
from .method.rewards import REWARD_MODELS
from .presets import Preset


def collect_metrics(preset: Preset, results: dict) -> dict:
    """metrics.json from the stages' results (their done.json contents, by stage name)."""
    m = {"preset": preset.name, "stages": {k: v.get("seconds") for k, v in results.items()}}
    if results.get("sample", {}).get("rater_agreement") is not None:
        m["human_rater_agreement"] = results["sample"]["rater_agreement"]  # two simulated raters, each training pair
        m["human_rater_agreement_n"] = results["sample"].get("n_train_pairs")
    if results.get("sample", {}).get("longer_wins") is not None:  # how often the human labels prefer the longer summary
        m["human_longer_wins"] = results["sample"]["longer_wins"]
    if "label" in results:
        lab = results["label"]
        m["labeler"] = {"name": lab["labeler"], "alignment": lab["alignment"]["value"], "alignment_ci": lab["alignment"],
                        "alignment_high_confidence": lab["alignment_high_confidence"],
                        "same_position_pct": lab["position_bias"]["same_position_pct"],
                        "position_bias": lab["position_bias"], "baselines": lab["baselines"],
                        "position_direction": position_direction(lab["position_bias"]),
                        "techniques": lab.get("techniques", []), "self_consistency": lab.get("self_consistency", []),
                        "labeler_size": lab.get("labeler_size", [])}
    if "reward" in results:
        for folder, key in REWARD_MODELS.items():  # reward/<folder> -> its metrics.json key
            if folder in results["reward"]:
                m[key] = results["reward"][folder]
    if "rl" in results:
        m["rl"] = {k: v for k, v in results["rl"].items() if k not in ("seconds", "cpu_seconds", "provenance")}
    if "evaluate" in results:
        ev = results["evaluate"]
        m["win_rate"] = ev.get("win_rate")
        m["win_rate_length_controlled"] = ev.get("win_rate_length_controlled")
        m["gold_score"] = ev.get("gold_score")
        m["judge"] = ev.get("judge")
        m["mean_words"] = ev.get("mean_words")
        if "sft" in (ev.get("gold_score") or {}):
            m["sft"] = {"gold_score": ev["gold_score"]["sft"]["value"]}
            m["reference"] = {"gold_score": ev["gold_score"]["reference"]["value"]}
    return m
