"""What does an AI labeler's soft label actually track? (Toy world: every summary has a gold score.)

For each labelled pair we compute differences "summary A minus summary B" of a few properties a
rater might react to, and ask which of them the labeler's preference follows:

- `length`: words; `gold`: the gold score (what the simulated humans follow);
- `coverage`, `wrong_facts`, `coherence`, `repetition`: the gold score's parts (toy_world.gold_breakdown);
  `wrong_other`: the wrong facts that are not an age ("24F" tags the post never mentions);
- `age_tags`: how many age/gender tags ("(24F)", "31M") the summary has, true or not;
- `overlap`: share of the summary's words that occur in the post;
- `copying`: share of the summary's word 4-grams copied verbatim from the post;
- `unfinished`: 1 if the summary stops mid-sentence (no final . ? !), as a sample cut at max tokens does.

The labeler's two calls on a pair (A shown first, then B shown first) split into two logits:

    content  = (logit P("1" | A first) - logit P("1" | B first)) / 2   # prefers A whatever its position
    position = (logit P("1" | A first) + logit P("1" | B first)) / 2   # prefers the first position

`what_the_labeler_tracks` correlates each target (the labeler's content logit and its choice, the
human choice, and optionally a reward model's margin) with every feature, and fits a logistic model
of each choice on the standardised features (Newton's method, small ridge, bootstrap intervals).
"""
from __future__ import annotations

import re

import numpy as np

from ..data import load_run_pairs
from ..stats import fit_logistic

FEATURES = ("length", "gold", "coverage", "wrong_facts", "wrong_other", "age_tags", "coherence", "repetition", "overlap",
            "copying", "unfinished")
MODEL_FEATURES = ("length", "coverage", "wrong_other", "age_tags", "coherence", "repetition", "copying", "unfinished")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def summary_features(post, summary: str) -> dict:
    """The FEATURES of one summary of a toy-world `post` (a toy_world.Post)."""
    from ..toy_world import AGE_RE, gold_breakdown

    g = gold_breakdown(post, summary)
    words, post_words = _words(summary), _words(f"{post.title} {post.body}")
    vocab = set(post_words)
    grams = list(zip(*(words[i:] for i in range(4))))
    post_grams = set(zip(*(post_words[i:] for i in range(4))))
    return {"length": float(len(summary.split())), "gold": g["score"], "coverage": g["coverage"],
            "wrong_facts": float(len(g["wrong_facts"])),
            "wrong_other": float(sum(not w.startswith("age") for w in g["wrong_facts"])),
            "age_tags": float(len(AGE_RE.findall(summary.lower()))), "coherence": g["coherence"], "repetition": g["repetition"],
            "overlap": float(np.mean([w in vocab for w in words])) if words else 0.0,
            "copying": float(np.mean([x in post_grams for x in grams])) if grams else 0.0,
            "unfinished": float(not summary.strip().endswith((".", "?", "!")))}


def pair_features(pairs: list[dict], posts: dict) -> dict[str, np.ndarray]:
    """Feature differences A - B for each pair ({"id", "summary_a", "summary_b"}), `posts` by id."""
    rows = []
    for pair in pairs:
        post = posts.get(pair["id"])
        if post is None:
            raise KeyError(f"pair {pair['id']!r}: no toy-world post with that id (is this a toy-world run?)")
        fa, fb = summary_features(post, pair["summary_a"]), summary_features(post, pair["summary_b"])
        rows.append([fa[k] - fb[k] for k in FEATURES])
    x = np.array(rows, dtype=float).reshape(len(rows), len(FEATURES))
    return {k: x[:, i] for i, k in enumerate(FEATURES)}


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def label_logits(labels: list[dict]) -> dict[str, np.ndarray]:
    """Split each label row into its `content` and `position` logits (see the module docstring),
    plus `p_a`, `p_first_ab` = P("1") with A first, `p_first_ba` = P("1") with B first."""
    ab = _logit([x["probs_ab"][0] for x in labels])
    ba = _logit([x["probs_ba"][0] for x in labels])
    return {"content": (ab - ba) / 2, "position": (ab + ba) / 2, "p_a": np.array([x["p_a"] for x in labels]),
            "p_first_ab": np.array([x["probs_ab"][0] for x in labels]),
            "p_first_ba": np.array([x["probs_ba"][0] for x in labels])}


def _rank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    for v in np.unique(x):  # average ranks for ties
        ranks[x == v] = ranks[x == v].mean()
    return ranks


def spearman(x, y) -> float:
    """Spearman rank correlation (ties get average ranks); NaN if either side is constant."""
    rx, ry = _rank(np.asarray(x, float)), _rank(np.asarray(y, float))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def logistic_model(features: dict, y, names=MODEL_FEATURES, n_boot: int = 200, seed: int = 0) -> dict:
    """Logistic model of the choice `y` (1 = A preferred) on standardised feature differences:
    per feature, its coefficient (log-odds per standard deviation) with a bootstrap 95% interval;
    plus in-sample accuracy. Features that are constant on these pairs are left out."""
    names = [k for k in names if np.std(features[k]) > 0]
    x = np.column_stack([features[k] for k in names])
    x = x / x.std(axis=0)
    y = np.asarray(y, dtype=float)
    w = fit_logistic(x, y)
    rng = np.random.default_rng(seed)
    boots = np.array([fit_logistic(x[i], y[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(n_boot))])
    lo, hi = np.quantile(boots, [0.025, 0.975], axis=0)
    pred = 1 / (1 + np.exp(-(w[0] + x @ w[1:])))
    return {"bias": float(w[0]), "accuracy": float(np.mean((pred > 0.5) == (y > 0.5))), "n": int(len(y)),
            "coefficients": {k: {"value": float(w[i + 1]), "ci_low": float(lo[i + 1]), "ci_high": float(hi[i + 1])}
                             for i, k in enumerate(names)}}


def what_the_labeler_tracks(labels: list[dict], pairs: list[dict], posts: dict, reward_margins=None) -> dict:
    """Which pair properties the AI labeler's preference follows, beside the humans' (and, if given,
    a reward model's margin r(A) - r(B) on the same pairs). Returns {"n", "correlations": {target:
    {feature: Spearman rho}}, "models": {target: logistic_model(...)}, "position": mean P("1") etc.}."""
    from ..data import pair_id

    if labels and all("pair_id" in x for x in labels):  # the label stage's files: one id per comparison
        same_order = [x["pair_id"] for x in labels] == [pair_id(p) for p in pairs]
    else:
        same_order = [str(x["id"]) for x in labels] == [str(p["id"]) for p in pairs]
    if not same_order:
        raise ValueError("labels and pairs must be in the same order (same pair ids, or ids)")
    f = pair_features(pairs, posts)
    lg = label_logits(labels)
    human_a = np.array([p["choice"] == 0 for p in pairs], dtype=float)
    targets = {"labeler content logit": lg["content"], "labeler p_a": lg["p_a"],
               "labeler P('1'), A first": lg["p_first_ab"], "labeler P('1'), B first": lg["p_first_ba"],
               "human choice (A)": human_a}
    choices = {"labeler": (lg["content"] > 0).astype(float), "human": human_a}
    if reward_margins is not None:
        targets["reward model r(A) - r(B)"] = np.asarray(reward_margins, float)
        choices["reward model"] = (np.asarray(reward_margins, float) > 0).astype(float)
    return {
        "n": len(pairs),
        "correlations": {t: {k: spearman(v, f[k]) for k in FEATURES} for t, v in targets.items()},
        "models": {t: logistic_model(f, y) for t, y in choices.items()},
        "position": {"mean_p_first_ab": float(lg["p_first_ab"].mean()), "mean_p_first_ba": float(lg["p_first_ba"].mean()),
                     "mean_position_logit": float(lg["position"].mean()),
                     "mean_abs_content_logit": float(np.abs(lg["content"]).mean()),
                     "mean_other_mass": float(np.mean([x.get("other_mass", 0.0) for x in labels]))},
        "content_vs_other_mass": spearman(np.abs(lg["content"]), [x.get("other_mass", 0.0) for x in labels]),
    }


def plot_what_the_labeler_tracks(result: dict, title: str = "What the AI labeler's preference tracks"):
    """Two panels: Spearman correlation of each target with each feature difference (A - B), and the
    logistic models' coefficients (log-odds per SD) with bootstrap intervals. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    keep = [t for t in result["correlations"] if t in ("labeler content logit", "human choice (A)") or t.startswith("reward")]
    width = 0.8 / len(keep)
    for j, t in enumerate(keep):
        vals = [result["correlations"][t][k] for k in FEATURES]
        ax1.bar(np.arange(len(FEATURES)) + (j - (len(keep) - 1) / 2) * width, vals, width, label=t)
    ax1.axhline(0, color="k", lw=0.6)
    ax1.set_xticks(range(len(FEATURES)), FEATURES, rotation=35, ha="right")
    ax1.set_ylabel("Spearman correlation with A - B")
    ax1.set_title(f"correlations (n={result['n']} pairs)")
    ax1.legend(fontsize=8)
    models = result["models"]
    names = list(next(iter(models.values()))["coefficients"])
    width = 0.8 / len(models)
    for j, (t, m) in enumerate(models.items()):
        c = [m["coefficients"].get(k, {"value": np.nan, "ci_low": np.nan, "ci_high": np.nan}) for k in names]
        v = np.array([x["value"] for x in c])
        err = np.array([[x["value"] - x["ci_low"] for x in c], [x["ci_high"] - x["value"] for x in c]])
        ax2.bar(np.arange(len(names)) + (j - (len(models) - 1) / 2) * width, v, width, yerr=err, capsize=2,
                label=f"{t} choice (fit acc {m['accuracy']:.0%})")
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax2.set_ylabel("logistic coefficient (log-odds per SD)")
    ax2.set_title("logistic model of each choice, 95% bootstrap CI")
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


PROFILE = ("length", "unfinished", "copying", "overlap", "coverage", "wrong_facts", "age_tags", "repetition", "gold")


def summary_profile(posts: list, summaries: list[str]) -> dict:
    """Mean of each PROFILE feature over summaries (one per post, toy-world Posts): what a policy writes."""
    rows = [summary_features(p, s) for p, s in zip(posts, summaries)]
    return {k: float(np.mean([r[k] for r in rows])) if rows else float("nan") for k in PROFILE} | {"n": len(rows)}


def largest_loss(posts: list, summaries: list[str], baseline: list[str]) -> dict | None:
    """The post on which a policy's summary loses most gold score against a baseline's summary of the same post
    (one of each per post, toy-world Posts; where it loses on none, the post where it gains least): {id, summary,
    gold, baseline, baseline_gold}; None for no posts. A policy's worst trade, to read rather than guess where
    its reward model led it."""
    from ..toy_world import gold_score

    rows = [(p, s, gold_score(p, s), b, gold_score(p, b)) for p, s, b in zip(posts, summaries, baseline)]
    if not rows:
        return None
    post, mine, gold, theirs, their_gold = min(rows, key=lambda r: r[2] - r[4])
    return {"id": post.id, "summary": mine.strip(), "gold": gold, "baseline": theirs.strip(),
            "baseline_gold": their_gold}


def reward_margins(reward_model_path, pairs: list[dict]) -> np.ndarray:
    """r(A) - r(B) of a saved reward model on `pairs`."""
    from ..method.reward import load_reward_model, score

    rm = load_reward_model(reward_model_path)
    prompts = [p["prompt"] for p in pairs]
    return score(rm, prompts, [p["summary_a"] for p in pairs]) - score(rm, prompts, [p["summary_b"] for p in pairs])


def run_analysis(run, preset) -> dict:
    """Everything this module can say about a toy-world run folder, from the artefacts it has: what the
    labeler's labels track (label stage), what the reward model on its labels prefers on the same pairs
    (reward stage, "ai"), and what each policy's held-out summaries look like (evaluate stage)."""
    from ..presets import toy_posts
    from ..run_folder import RunFolder, read_jsonl

    run = RunFolder(run)
    if preset.comparisons != "toy":
        raise ValueError("run_analysis needs the toy world's gold rater")
    pairs = load_run_pairs(run, "train") + load_run_pairs(run, "test")
    labels = read_jsonl(run.labels("train")) + read_jsonl(run.labels("test"))
    posts = {**toy_posts(preset, "label"), **toy_posts(preset, "eval")}
    margins = reward_margins(run.reward_model("ai"), pairs) if (run.reward_model("ai") / "config.json").exists() else None
    out = {"labeler": preset.labeler, "tracks": what_the_labeler_tracks(labels, pairs, posts, margins)}
    if run.summaries.exists():
        rows = read_jsonl(run.summaries)
        eval_posts = [posts[r["id"]] for r in rows]
        out["profiles"] = {k: summary_profile(eval_posts, [r[k] for r in rows]) for k in rows[0] if k != "id"}
    return out


def analysis_markdown(result: dict) -> str:
    """Markdown tables of a `run_analysis` result: correlations with each feature difference, the
    logistic models' coefficients, and (when present) the policies' summary profiles."""
    t = result["tracks"]
    targets = [k for k in t["correlations"] if k in ("labeler content logit", "human choice (A)") or k.startswith("reward")]
    lines = [f"Spearman correlation of each judge's preference with the difference A - B ({t['n']} pairs):", "",
             "| feature (A - B) | " + " | ".join(targets) + " |", "| --- |" + " --- |" * len(targets)]
    lines += [f"| {k} | " + " | ".join(f"{t['correlations'][x][k]:+.2f}" for x in targets) + " |" for k in FEATURES]
    models = t["models"]
    names = list(next(iter(models.values()))["coefficients"])
    lines += ["", "Logistic model of each choice on the standardised differences (log-odds per SD, 95% bootstrap CI):", "",
              "| feature | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    for k in names:
        cells = []
        for m in models.values():
            c = m["coefficients"].get(k)
            cells.append("" if c is None else f"{c['value']:+.2f} [{c['ci_low']:+.2f}, {c['ci_high']:+.2f}]")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines.append("| fit accuracy | " + " | ".join(f"{m['accuracy']:.0%}" for m in models.values()) + " |")
    p = t["position"]
    lines += ["", f"Labeler: mean |content logit| {p['mean_abs_content_logit']:.3f}, mean position logit "
              f"{p['mean_position_logit']:+.3f}, mean P(\"1\") {p['mean_p_first_ab']:.2f} (A first) / "
              f"{p['mean_p_first_ba']:.2f} (B first), mean probability outside \"1\"/\"2\" {p['mean_other_mass']:.2f}."]
    if result.get("profiles"):
        lines += ["", "What each policy's held-out summaries look like (means):", "",
                  "| policy | " + " | ".join(PROFILE) + " |", "| --- |" + " --- |" * len(PROFILE)]
        lines += [f"| {name} | " + " | ".join(f"{prof[k]:.3f}" for k in PROFILE) + " |" for name, prof in result["profiles"].items()]
    return "\n".join(lines)


def report_section(run) -> list[str]:
    """The report's "What the AI labeler's labels track" section for a toy-world run folder whose
    label stage is done (else []): the tables of `analysis_markdown` and the figure, saved as
    figures/labeler_tracks.png."""
    import hashlib
    import json
    from dataclasses import replace

    import matplotlib.pyplot as plt

    from ..presets import Preset
    from ..run_folder import RunFolder, read_json, write_json

    run = RunFolder(run)
    if not (run.preset.exists() and run.done("label").exists()):
        return []
    saved = read_json(run.preset)
    if saved.get("comparisons") != "toy":
        return []
    # cached beside the figure, keyed by what it is computed from: a rerun of a finished run is instant
    inputs = [run.done(s).read_text() for s in ("label", "reward", "evaluate") if run.done(s).exists()]
    key = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()
    cache = run.figures / "labeler_tracks.json"
    cached = read_json(cache) if cache.exists() else {}
    if cached.get("key") == key and (run.figures / "labeler_tracks.png").exists():
        result = cached["result"]
    else:
        # the fields the toy posts and the title depend on, from preset.json (a preset made by hand, as
        # the tests do, has a name get_preset does not know)
        sizes = ("name", "n_sft", "n_label_posts", "n_test_pairs", "n_eval_posts", "seed", "labeler")
        preset = replace(Preset(), **{k: saved[k] for k in sizes if k in saved})
        result = run_analysis(run, preset)
        run.figures.mkdir(parents=True, exist_ok=True)
        fig = plot_what_the_labeler_tracks(result["tracks"], f"What {preset.labeler}'s preference tracks")
        fig.savefig(run.figures / "labeler_tracks.png", dpi=110)
        plt.close(fig)
        write_json(cache, {"key": key, "result": result})
    return ["", "## What the AI labeler's labels track (toy world)", "",
            "Its content logit (the preference for summary A that survives the swap), the human (simulated "
            "rater) choice" + (" and the RLAIF reward model's margin" if result["tracks"]["models"].get("reward model")
                               else "") + ", against differences A - B.", "",
            analysis_markdown(result), "", "![labeler_tracks.png](figures/labeler_tracks.png)"]


def _bigrams(text: str) -> set:
    toks = re.findall(r"[a-z0-9']+|[.,?!()]", text.lower())
    return set(zip(toks, toks[1:]))


def distinctive_bigrams(labels: list[dict], pairs: list[dict], min_count: int = 20, top: int = 8) -> dict:
    """Which word pairs move the labeler: for each bigram found in exactly one summary of at least
    `min_count` pairs, the labeler's mean content logit toward the summary that has it, its t-statistic
    over those pairs, and the humans' mean vote (+1 = prefer the summary with it, -1 = the other).
    Returns {"likes": [...], "dislikes": [...]}, the `top` bigrams each way by t."""
    content = label_logits(labels)["content"]
    human = np.array([1.0 if p["choice"] == 0 else -1.0 for p in pairs])
    seen: dict = {}
    for pair, c, h in zip(pairs, content, human):
        ga, gb = _bigrams(pair["summary_a"]), _bigrams(pair["summary_b"])
        for g in ga - gb:
            seen.setdefault(g, []).append((c, h))
        for g in gb - ga:
            seen.setdefault(g, []).append((-c, -h))
    rows = []
    for g, v in seen.items():
        if len(v) >= min_count:
            x = np.array(v)
            t = x[:, 0].mean() / (x[:, 0].std(ddof=1) / np.sqrt(len(x)) + 1e-12)
            rows.append({"bigram": " ".join(g), "n": len(x), "content": float(x[:, 0].mean()), "t": float(t),
                         "human": float(x[:, 1].mean())})
    rows.sort(key=lambda r: (r["t"], r["bigram"]))  # ties in a fixed order, whatever the string hashing
    return {"likes": rows[::-1][:top], "dislikes": rows[:top]}

