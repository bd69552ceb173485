"""The talk: built from the committed example run, opened in headless Chromium, walked
slide by slide, and every number on it checked against the run's metrics.json and rlaif_lib.paper.

The browser test needs Node.js, `slides/node_modules` (`make slides-setup`) and Debian's chromium;
it is skipped, saying which is missing, without them. The template is tested without a browser; the reading rules themselves in
tests/test_readings.py.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from rlaif_lib import paper, readings
from rlaif_lib.experiments.precomputed import committed_tables

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "run"
OUT = ROOT / "build" / "slides" / "test"
SHOTS = (1, 6, 10, 24)  # title, pipeline diagram, position bias, Table 1


def _load_build():
    spec = importlib.util.spec_from_file_location("slides_build", ROOT / "slides" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["slides_build"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _chromium() -> str | None:
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    return path if path and Path(path).exists() else None


def _browser_missing() -> str | None:
    if not shutil.which("node"):
        return "Node.js is not installed (`make slides-setup` names the package)"
    if not (ROOT / "slides" / "node_modules" / ".bin" / "marp").exists():
        return "slides/node_modules is missing: run `make slides-setup` (npm ci in slides/)"
    if not _chromium():
        return "chromium is not installed: run `make slides-setup` (apt-get install -y chromium)"
    return None


def _metric(tree, key: str):
    """The test's own lookup of a dotted path (independent of build.lookup)."""
    node = tree
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _number(text: str) -> tuple[float, int]:
    """The number in a span's text and its count of decimals ("54.6%" -> (54.6, 1))."""
    m = re.fullmatch(r"\s*(-?\d+(?:\.(\d+))?)\s*(%|s)?\s*", text)
    assert m, f"not a number: {text!r}"
    return float(m[1]), len(m[2] or "")


# ----------------------------------------------------------------------------- the deck in a browser
@pytest.fixture(scope="module")
def deck():
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    summary = build.build(EXAMPLE, OUT, pdf=True, live_demo="skip")
    env = dict(os.environ, CHROME_PATH=_chromium())
    res = subprocess.run(["node", str(ROOT / "slides" / "check_deck.mjs"), str(OUT / "talk.html"), str(OUT / "screenshots"),
                          ",".join(map(str, SHOTS))], capture_output=True, text=True, env=env, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return summary, json.loads(res.stdout)


def test_deck_loads_offline_without_errors(deck):
    _, report = deck
    assert report["errors"] == [] and report["console_errors"] == []
    assert report["failed_requests"] == [], "a missing asset"
    assert report["nonlocal_requests"] == [], "the deck must not reach the network (CDN, fonts)"


def test_every_slide_is_walked_has_notes_and_fits(deck):
    summary, report = deck
    _, slides = build.split_slides((OUT / "talk.md").read_text())
    n = len(slides)
    assert 25 <= n <= 40 and report["slides"] == n == summary["slides"]
    assert report["active_walk"] == list(range(1, n + 1)), "the keyboard walk did not reach every slide in order"
    assert report["notes"] == report["notes_nonempty"] == n, "every slide has speaker notes"
    assert report["overflow"] == [], f"content runs off these slides: {report['overflow']}"
    assert all(report["titles"]), "every slide has a title"


def test_no_broken_image_and_every_figure_shown(deck):
    _, report = deck
    assert report["broken_images"] == []
    figures = [f for f in build.FIGURES if (EXAMPLE / "figures" / f).exists()]
    shown = [f for f in figures if f != "losses.png"]  # the deck shows the RL curves and the win rates
    assert report["images"] >= len(shown) >= 1
    html = (OUT / "talk.html").read_text()
    assert 'src="figures/' not in html and "data:image/png;base64," in html, "images are embedded: one file"


def test_every_kit_number_equals_metrics_json(deck):
    _, report = deck
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    # Tables 2 and 14: the run's own rows, or (a run that left them out, as tiny does) the committed measurement
    # of its preset on the same pairs, on a slide that says PRECOMPUTED
    tables = committed_tables(json.loads((EXAMPLE / "preset.json").read_text()))
    assert len(report["numbers"]) >= 40
    for span in report["numbers"]:
        assert span["source"] in ("metrics", "tables"), span
        assert span["source"] == "metrics" or (tables and not metrics["labeler"].get("techniques")), span
        value = _metric(metrics if span["source"] == "metrics" else tables, span["key"])
        shown, decimals = _number(span["text"])
        assert math.isclose(shown, value * span["scale"], abs_tol=0.5 * 10 ** -decimals + 1e-9), (span, value)
    on_slides = {s["key"] for s in report["numbers"]}
    for name in metrics.get("win_rate") or {}:  # every Table 1 row of the run is on the results slides
        assert {f"win_rate.{name}.value", f"win_rate.{name}.ci_low", f"win_rate.{name}.ci_high"} <= on_slides
    for key in ("labeler.same_position_pct", "labeler.alignment_ci.value", "reward_model.accuracy_human"):
        if _metric_or_none(metrics, key) is not None:
            assert key in on_slides, key
    sidecar = json.loads((OUT / "numbers.json").read_text())["numbers"]
    assert sorted(n["key"] for n in sidecar if n["source"] != "paper") == sorted(s["key"] for s in report["numbers"])


def _metric_or_none(metrics, key):
    try:
        return _metric(metrics, key)
    except (KeyError, IndexError, TypeError):
        return None


def test_every_paper_number_equals_rlaif_lib_paper(deck):
    _, report = deck
    assert len(report["paper"]) >= 25
    for span in report["paper"]:
        table = getattr(paper, span["name"])
        value = table if span["index"] is None else table[ast.literal_eval(span["index"])]
        shown, decimals = _number(span["text"])
        assert math.isclose(shown, value, abs_tol=0.5 * 10 ** -decimals + 1e-9), span


def test_readings_agree_with_the_intervals(deck):
    _, report = deck
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    claims = [r["claim"] for r in report["readings"]]
    for name, d in (metrics.get("win_rate") or {}).items():
        side = "above" if d["ci_low"] > 0.5 else "below" if d["ci_high"] < 0.5 else "contains"
        assert f"{name}:{side}" in claims, (name, side, claims)
        assert not any(c.startswith(f"{name}:") and c != f"{name}:{side}" for c in claims)


def test_every_reading_is_the_library_sentence_for_the_run(deck):
    """Each reading on the slides is, word for word and number for number, what rlaif_lib.readings
    (the report's sentences too) says about the run's metrics.json."""
    _, report = deck
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    rows = metrics["labeler"].get("techniques") or committed_tables(json.loads((EXAMPLE / "preset.json").read_text()))["techniques"]
    expected = [readings.techniques_reading(rows)] + [
        getattr(readings, f)(metrics) for f in ("position_reading", "alignment_reading", "rm_reading", "gold_reading",
                                                "agreement_reading")]
    expected += [f(metrics, name) for name in metrics["win_rate"] for f in (readings.win_verdict, readings.win_reading)]
    by_text = {" ".join(r.split()): r.claim for r in expected}
    assert len(report["readings"]) >= 10
    for span in report["readings"]:
        text = " ".join(span["text"].split())
        assert by_text.get(text) == span["claim"], (span, sorted(by_text))
    shown = {" ".join(s["text"].split()) for s in report["readings"]}
    assert {t for t, claim in by_text.items() if claim} <= shown, "a reading of the run is missing from the slides"


def test_like_for_like_notes_are_in_the_table_1_slides_notes(deck):
    """The notes on what differs from the paper, as rlaif_lib.readings prints them for the run, reach the
    rendered deck's speaker notes (Marp's notes export), on the Table 1 slide."""
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    notes = readings.paper_comparison_notes(metrics, json.loads((EXAMPLE / "preset.json").read_text()))
    assert len(notes) >= 4
    exported = " ".join((OUT / "talk.notes.txt").read_text().split())
    assert all(" ".join(n.split()) in exported for n in notes), "a like-for-like note is missing from the notes"


def _pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF, looking inside its compressed object streams too."""
    import zlib

    text = pdf
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            text += zlib.decompress(m[1])
        except zlib.error:
            pass
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text))


def test_pdf_and_screenshots(deck):
    summary, report = deck
    pdf = (OUT / "talk.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert _pdf_pages(pdf) == summary["slides"]
    assert [Path(p).name for p in report["screenshots"]] == [f"slide-{i:02d}.png" for i in SHOTS]
    for p in report["screenshots"]:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Path(p).stat().st_size > 10_000


# ----------------------------------------------------------------------------- no browser needed
def _render(metrics: dict, preset: dict | None = None) -> tuple[str, "build.Deck"]:
    deck = build.Deck(EXAMPLE, metrics, preset or {}, demo_text="demo", demo_source="stored")
    return build.render(build.TEMPLATE.read_text(), deck), deck


def _table_1_notes(text: str) -> str:
    slide = next(s for s in build.split_slides(text)[1] if "# Results: win rates (Table 1)" in s)
    return " ".join(" ".join(build.NOTES.findall(slide)).split())


def test_like_for_like_notes_follow_the_run():
    """The Table 1 slide's speaker notes carry the run's like-for-like notes, and change with its numbers."""
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    preset = json.loads((EXAMPLE / "preset.json").read_text())
    text, _ = _render(metrics, preset)
    notes = _table_1_notes(text)
    assert "Like for like?" in notes
    assert all(" ".join(n.split()) in notes for n in readings.paper_comparison_notes(metrics, preset))
    assert f"d-RLAIF trained {preset['drlaif_steps']} RL steps, fewer than" in notes
    longer = dict(metrics, mean_words={"sft": 20.0, "rlaif": 30.0, "rlhf": 30.0, "drlaif": 30.0})
    notes = _table_1_notes(_render(longer, dict(preset, drlaif_steps=preset["rl"]["max_steps"]))[0])
    assert "longer than SFT's, as the paper's did" in notes and "d-RLAIF trained" not in notes
    assert "Like for like?" not in _table_1_notes(_render({"preset": "micro"})[0])  # nothing measured: no notes


def test_a_run_without_later_stages_renders_as_not_measured():
    text, deck = _render({"preset": "micro", "stages": {"data": 0.2, "sft": 20.0}})
    assert "not measured in this run" in text and text.count("not measured in this run") >= 10
    assert all(n["source"] == "paper" or n["key"].startswith("stages.") for n in deck.numbers)


def test_tables_2_and_14_fall_back_to_the_committed_measurement_marked_precomputed():
    """tiny leaves Tables 2 and 14 out of its run: the deck shows its committed rows (same pairs), saying so."""
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    metrics["labeler"] = dict(metrics["labeler"], techniques=[], self_consistency=[])
    preset = json.loads((EXAMPLE / "preset.json").read_text())
    tables = committed_tables(preset)
    assert tables is not None, "examples/run is a tiny run on the pairs of assets/label_tables_tiny.json"
    deck = build.Deck(EXAMPLE, metrics, preset, demo_text="demo", demo_source="stored", tables=tables)
    text = build.render(build.TEMPLATE.read_text(), deck)
    assert text.count("PRECOMPUTED, not this run") == 2  # the Table 2 and the Table 14 slides
    shown = [n for n in deck.numbers if n["source"] == "tables"]
    assert {n["key"] for n in shown} >= {f"techniques.{i}.alignment" for i in range(len(tables["techniques"]))}
    assert all(n["value"] == _metric(tables, n["key"]) for n in shown)
    other = dict(preset, n_label_posts=preset["n_label_posts"] + 1)  # other pairs: no committed rows for them
    assert committed_tables(other) is None
    text, deck = _render(metrics, other)
    assert "PRECOMPUTED, not this run" not in text and not any(n["source"] == "tables" for n in deck.numbers)


def _win(lo, value, hi):
    return {"value": value, "ci_low": lo, "ci_high": hi, "n": 100}


@pytest.mark.parametrize("iv, words, claim", [
    ((0.513, 0.546, 0.579), "RLAIF beats SFT", "rlaif_vs_sft:above"),
    ((0.30, 0.35, 0.40), "RLAIF loses to SFT", "rlaif_vs_sft:below"),
    ((0.45, 0.51, 0.57), "RLAIF and SFT cannot be told apart at this n", "rlaif_vs_sft:contains"),
])
def test_win_reading_is_generated_from_the_interval(iv, words, claim):
    """The table's verdict and the sentence on the headline slide both read the interval."""
    text, _ = _render({"win_rate": {"rlaif_vs_sft": _win(*iv)}})
    spans = [(c, s) for c, s in re.findall(r'<span class="reading" data-claim="([^"]*)">([^<]*)</span>', text)
             if c.startswith("rlaif_vs_sft:")]
    assert len(spans) == 2 and all(c == claim and words in s for c, s in spans), spans
    assert any(f"{100 * iv[1]:.1f}% [{100 * iv[0]:.1f}, {100 * iv[2]:.1f}]" in s for _, s in spans)


def test_position_reading_names_the_nearest_paper_labeler():
    for pct in (15.0, 50.0, 95.0):
        text, _ = _render({"labeler": {"same_position_pct": pct}})
        nearest = min(paper.SAME_POSITION, key=lambda k: abs(paper.SAME_POSITION[k] - pct))
        assert f'data-claim="nearest:{nearest}"' in text


def test_optional_sweep_slide_appears_only_with_a_sweep():
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    without, _ = _render(metrics)
    deck = build.Deck(EXAMPLE, metrics, {}, sweep={"points": [{"labeler": "simulated 78%", "alignment": 0.78,
                                                             "win_rate_vs_sft": _win(0.5, 0.6, 0.7)}]},
                      demo_text="demo", demo_source="stored")
    with_sweep = build.render(build.TEMPLATE.read_text(), deck)
    assert len(build.split_slides(with_sweep)[1]) == len(build.split_slides(without)[1]) + 1
    assert "simulated 78%" in with_sweep and 'data-key="points.0.win_rate_vs_sft.value"' in with_sweep


def test_overoptimization_slide_shows_the_committed_curves_reading_marked_precomputed():
    from rlaif_lib.experiments import overoptimization

    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    without, _ = _render(metrics)
    committed = overoptimization.load_committed()
    deck = build.Deck(EXAMPLE, metrics, {}, demo_text="demo", demo_source="stored", overopt=committed)
    text = build.render(build.TEMPLATE.read_text(), deck)
    assert len(build.split_slides(text)[1]) == len(build.split_slides(without)[1]) + 1
    slide = next(s for s in build.split_slides(text)[1] if "over-optimization" in s.lower())
    reading = overoptimization.reading_text(committed)
    assert reading in slide
    assert "PRECOMPUTED" in slide and "figures/overoptimization.png" in slide


def test_unknown_placeholder_and_slide_without_notes_fail_loudly(tmp_path):
    deck = build.Deck(EXAMPLE, {}, {})
    front = "---\nmarp: true\n---\n"
    with pytest.raises(jinja2.UndefinedError, match="no_such_filler"):
        build.render(front + "\n# A\n{{ no_such_filler() }}\n<!-- notes -->\n", deck)
    with pytest.raises(ValueError, match="no speaker notes"):
        build.render(front + "\n# A\ntext\n", deck)


def test_example_run_is_small_and_names_its_preset(tmp_path):
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    files = [p for p in EXAMPLE.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 500 * 1024
    assert f"preset `{metrics['preset']}`" in (EXAMPLE / "README.md").read_text()
    spec = importlib.util.spec_from_file_location("refresh", ROOT / "examples" / "refresh.py")
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    written = refresh.refresh(EXAMPLE, tmp_path / "copy")
    assert (tmp_path / "copy" / "metrics.json").read_text() == (EXAMPLE / "metrics.json").read_text()
    assert any(p.suffix == ".png" for p in written)
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        refresh.refresh(tmp_path / "nothing", tmp_path / "copy2")
    with pytest.raises(ValueError, match="KB"):
        refresh.refresh(EXAMPLE, tmp_path / "copy3", max_kb=1)


def test_seed_slide_shows_the_run_beside_the_committed_spread():
    from rlaif_lib.experiments import seeds

    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    without, _ = _render(metrics)
    study = {"preset": metrics["preset"], "seeds": [0, 1, 2], "measured": "a test study",
             "spread": {"RLHF vs SFT": seeds.spread([0.6, 0.7, 0.65]), "labeler alignment": seeds.spread([0.5, 0.6])}}
    deck = build.Deck(EXAMPLE, metrics, {}, demo_text="demo", demo_source="stored", seeds=study)
    text = build.render(build.TEMPLATE.read_text(), deck)
    assert len(build.split_slides(text)[1]) == len(build.split_slides(without)[1]) + 1
    slide = next(s for s in build.split_slides(text)[1] if "move with the seed" in s)
    assert "| RLHF vs SFT |" in slide and "60.0% to 70.0%" in slide and "labeler alignment" not in slide
    assert "PRECOMPUTED" in slide and "3 seeds" in slide
    deck = build.Deck(EXAMPLE, metrics, {}, demo_text="demo", demo_source="stored", seeds=dict(study, simulated=True))
    simulated = next(s for s in build.split_slides(build.render(build.TEMPLATE.read_text(), deck))[1]
                     if "move with the seed" in s)
    assert "SIMULATED raters and judge" in simulated
