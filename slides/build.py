"""Build the talk from a run folder: `build/slides/talk.html` (one self-contained file) and `talk.pdf`.

    .venv/bin/python slides/build.py                       # runs/demo if it has metrics.json, else examples/run
    .venv/bin/python slides/build.py --run runs/x --out build/x --no-pdf --live-demo skip

`slides/talk.md.j2`, the talk as a Jinja2 template, is rendered with the run's `metrics.json` (the kit's
numbers), `rlaif_lib.paper` (the paper's) and `rlaif_lib.readings` (the sentences that state results, as
the run's report prints them) into `talk.md`, with the run's figures beside it; Marp CLI (slides/node_modules)
makes the HTML (images as data URIs, no CDN), the PDF (speaker notes as annotations) and `talk.notes.txt`.

Every kit number on a slide is a `<span class="kit" data-key=...>`, every paper number a `<span class="paper">`
and every reading a `<span class="reading" data-claim=...>`; `numbers.json` lists the numbers, so
`tests/test_slides.py` can check the rendered page against the run. A number the run lacks renders as
"not measured in this run".
"""
from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rlaif_lib import paper, readings  # noqa: E402
from rlaif_lib.method.labeling.tables import markdown_table  # noqa: E402
from rlaif_lib.readings import NOT_MEASURED, finite, lookup, policy_pair, technique_name  # noqa: E402
from rlaif_lib.stats import fmt_ci  # noqa: E402

SLIDES = ROOT / "slides"
TEMPLATE = SLIDES / "talk.md.j2"
MARP = SLIDES / "node_modules" / ".bin" / "marp"
DEMO_FALLBACK = SLIDES / "live_demo_output.txt"
MISSING = f'<span class="missing">{NOT_MEASURED}</span>'
FIGURES = ("rl_curves.png", "win_rates.png", "losses.png")
SWEEP_KEYS = ("points", "rows", "results", "labelers", "table")  # where sweep.json keeps its list of points
NOTES = re.compile(r"<!--(.*?)-->", re.S)  # speaker notes, and Marp directives such as `_class: dense`


def default_run() -> Path:
    """`runs/demo` when a demo has finished there, else the committed example run."""
    demo = ROOT / "runs" / "demo"
    return demo if (demo / "metrics.json").exists() else ROOT / "examples" / "run"


def code(text: str, width: int) -> str:
    """A fenced text block with long lines wrapped (Marp would otherwise shrink the whole block)."""
    lines = [w for line in text.strip("\n").splitlines()
             for w in (textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False) or [""])]
    return "```text\n" + "\n".join(lines) + "\n```"


def sweep_points(sweep) -> tuple[list, str]:
    """(points, key path prefix) of a sweep.json: a list of dicts, or a dict holding one under SWEEP_KEYS."""
    if isinstance(sweep, list):
        return [p for p in sweep if isinstance(p, dict)], ""
    key = next((k for k in SWEEP_KEYS if isinstance(sweep, dict) and isinstance(sweep.get(k), list)), None)
    return ([p for p in sweep[key] if isinstance(p, dict)], f"{key}.") if key else ([], "")


def sweep_png(sweep_path: Path | None) -> Path | None:
    """The sweep's own figure: the first PNG beside sweep.json or in its figures/ folder."""
    if not sweep_path:
        return None
    pngs = sorted(sweep_path.parent.glob("*.png")) + sorted((sweep_path.parent / "figures").glob("*.png"))
    return pngs[0] if pngs else None


@dataclass
class Deck:
    """What the template reads (the run) and what it records (every number placed on a slide)."""

    run: Path
    metrics: dict
    preset: dict
    sweep: dict | None = None
    sweep_path: Path | None = None
    demo_text: str = ""
    demo_source: str = ""
    numbers: list = field(default_factory=list)
    tables: dict | None = None  # Tables 2 and 14 committed for the run's preset, when its label stage left them out
    overopt: dict | None = None  # the over-optimization curves committed for the run's preset (`make overopt`)
    seeds: dict | None = None  # the seed study committed for the run's preset (`make seeds`)

    @property
    def simulated(self) -> bool:
        """True when the kit's 'human' labels and judge are the toy world's simulation."""
        judge = self.metrics.get("judge") or ""  # a dict {"kind": "gold" | "ai", ...}; a string in older runs
        gold = judge.get("kind") == "gold" if isinstance(judge, dict) else judge.startswith("simulated")
        return gold or self.preset.get("comparisons") == "toy"

    def label_rows(self, key: str) -> tuple[list, str, str]:
        """(rows, source, path prefix) of Table 2 ("techniques") or 14 ("self_consistency"): the run's own, else
        the committed measurement (PRECOMPUTED) of the same preset on the same pairs, else none."""
        rows = lookup(self.metrics, f"labeler.{key}") or []
        if rows or not self.tables:
            return rows, "metrics", f"labeler.{key}"
        return self.tables.get(key) or [], "tables", key

    # -- numbers and readings, as tagged spans
    def _tree(self, source: str):
        """What numbers of `source` are read from: metrics.json, the sweep, or the committed label tables."""
        return {"metrics": self.metrics, "sweep": self.sweep, "tables": self.tables}[source]

    def _place(self, entry: dict, attrs: str) -> str:
        """Record a number and return its span; `data-i` lets render() keep only the ones left on slides."""
        self.numbers.append(entry)
        return f'<span {attrs} data-i="{len(self.numbers) - 1}">{entry["text"]}</span>'

    def _tag(self, source: str, path: str, value, scale: float, text: str) -> str:
        return self._place({"source": source, "key": path, "value": value, "scale": scale, "text": text},
                           f'class="kit" data-source="{source}" data-key="{html.escape(path)}" data-scale="{scale:g}"')

    def kit(self, path: str, scale: float = 100, digits: int = 1, unit: str = "%", source: str = "metrics") -> str:
        """A kit number from metrics.json (or the sweep, or the committed tables); MISSING when absent."""
        value = lookup(self._tree(source), path)
        if not finite(value):
            return MISSING
        return self._tag(source, path, value, scale, f"{value * scale:.{digits}f}{unit}")

    def ci(self, path: str, value_key: str = "value", with_n: bool = True, source: str = "metrics") -> str:
        """"54.6% [51.3, 57.9], n=24" for the interval dict at `path` (a plain number there: that number)."""
        d = lookup(self._tree(source), path)
        if not isinstance(d, dict):
            return self.kit(path, source=source)
        if not finite(d.get(value_key)):
            return MISSING
        return fmt_ci(d, value_key, with_n, wrap=lambda k, text: self._tag(
            source, f"{path}.{k}", d[k], 1 if k == "n" else 100, text))

    def paper(self, name: str, key=None, unit: str = "%") -> str:
        """A paper number from rlaif_lib.paper (NAME or NAME[key]), as the paper prints it."""
        value = getattr(paper, name) if key is None else getattr(paper, name)[key]
        text = (f"{value:.1f}" if unit == "%" and isinstance(value, float) else f"{value:g}") + unit
        index = repr(key) if key is not None else None
        attrs = f'class="paper" data-name="{name}"' + (f' data-index="{html.escape(index)}"' if index else "")
        return self._place({"source": "paper", "name": name, "index": index, "value": value, "text": text}, attrs)

    def reading(self, fn, *args) -> str:
        """A sentence of rlaif_lib.readings for this run, as a reading span with its claim."""
        r = fn(*args)
        text = html.escape(r, quote=False).replace(NOT_MEASURED, MISSING)
        return f'<span class="reading" data-claim="{html.escape(r.claim)}">{text}</span>' if r.claim else text

    # -- the parts of the template too involved for Jinja
    def example_prompt(self) -> str:
        """The paper's labeling prompt for one short toy pair, rendered by the library (raw, Base, 0-shot)."""
        import random

        from rlaif_lib import toy_world
        from rlaif_lib.method import labeling

        post = min(toy_world.generate_posts(40, split="eval", seed=0), key=lambda p: len(p.title) + len(p.body))
        worse = toy_world.corrupt_summary(post, "drop_fact", random.Random(0))
        pair = {"id": post.id, "post": f"{post.title}\n{post.body}", "summary_a": post.reference, "summary_b": worse}
        return code(labeling.build_prompt(pair, labeling.LabelConfig(preamble="base")), 78)

    def techniques_table(self) -> str:
        """Table 2 (paper, PaLM 2 L) beside the kit's `labeler.techniques` rows, union of both."""
        rows, source, at = self.label_rows("techniques")
        kit_by_key = {(r.get("preamble"), r.get("shots"), bool(r.get("cot"))): i for i, r in enumerate(rows)}
        table = []
        for key in list(paper.TECHNIQUES) + [k for k in kit_by_key if k not in paper.TECHNIQUES]:
            i = kit_by_key.get(key)
            table.append([technique_name(dict(zip(("preamble", "shots", "cot"), key))),
                          self.paper("TECHNIQUES", key) if key in paper.TECHNIQUES else "not reported here",
                          MISSING if i is None else self.ci(f"{at}.{i}", "alignment", source=source),
                          "" if i is None else self.kit(f"{at}.{i}.same_position_pct", scale=1, source=source)])
        return markdown_table(["prompt", "paper (PaLM 2 L)", "kit alignment [95% CI]", "kit same position"],
                              table) + self._precomputed_note(source)

    def self_consistency_table(self) -> str:
        """Table 14 (paper) beside the kit's self-consistency rows when the run measured them."""
        rows, source, at = self.label_rows("self_consistency")
        kit_by = {(r.get("samples"), float(r.get("temperature", -1))): i for i, r in enumerate(rows)
                  if isinstance(r, dict)}
        table = [[k, f"{t:g}", self.paper("SELF_CONSISTENCY", (k, t)), ""] for k, t in paper.SELF_CONSISTENCY]
        table += [[f"{k} (kit)", f"{t:g}", "", self.ci(f"{at}.{i}", "alignment", source=source)]
                  for (k, t), i in kit_by.items()]
        table += [] if kit_by else [["kit", "", "", f"{MISSING} (`rlaif run --tables` measures it)"]]
        return markdown_table(["rationales", "temperature", "paper (PaLM 2 L)", "kit alignment [95% CI]"],
                              table) + self._precomputed_note(source)

    def _precomputed_note(self, source: str) -> str:
        if source != "tables":
            return ""
        return (f'\n\n<span class="note">Kit rows PRECOMPUTED, not this run: the {self.tables.get("preset")} preset\'s '
                f'label stage on the same pairs, {self.tables.get("measured")} (`rlaif run --tables`).</span>')

    def sweep_points(self) -> str:
        """The labeler-quality sweep (sweep.json, schema-tolerant): a table of its points."""
        points, base = sweep_points(self.sweep)
        if not points:
            return MISSING
        cols = [k for k, v in points[0].items()
                if isinstance(v, (str, int, float)) or (isinstance(v, dict) and "value" in v)][:7]

        def cell(v, c, path):  # an interval, a fraction (a rate, alignment, accuracy), another number, or text
            if isinstance(v, dict):
                return self.ci(path, with_n=False, source="sweep")
            if finite(v):
                pct = 0 <= v <= 1 and re.search(r"rate|align|acc|agree", c)
                return self.kit(path, source="sweep") if pct else self.kit(path, 1, 3, "", source="sweep")
            return html.escape(str(v))

        return markdown_table([c.replace("_", " ") for c in cols],
                              [[cell(pt.get(c), c, f"{base}{i}.{c}") for c in cols] for i, pt in enumerate(points)])

    def overopt_text(self) -> dict | None:
        """{reading, measured} of the committed over-optimization curves (PRECOMPUTED), or None without them."""
        if not self.overopt:
            return None
        from rlaif_lib.experiments import overoptimization

        return {"reading": html.escape(overoptimization.reading_text(self.overopt), quote=False),
                "measured": html.escape(str(self.overopt.get("measured", "")), quote=False)}

    def seed_table(self) -> dict | None:
        """{table, measured, n}: the run's win rates and reward-model accuracies beside the committed seed study's
        mean and range (PRECOMPUTED), or None without one."""
        if not self.seeds:
            return None
        from rlaif_lib.experiments import seeds

        shown = {k: v for k, v in self.seeds["spread"].items() if " vs " in k or k.startswith("reward model")}
        return {"table": seeds.spread_table(self.metrics, dict(self.seeds, spread=shown)),
                "measured": html.escape(str(self.seeds.get("measured", "")), quote=False),
                "n": len(self.seeds["seeds"]), "simulated": bool(self.seeds.get("simulated"))}

    def figure(self, name: str, width: int = 1000) -> str:
        """A run figure (copied beside talk.md), or a note that the run has none."""
        exists = (self.run / "figures" / name).exists()
        return f"![w:{width}](figures/{name})" if exists else f"*Figure `{name}`: {MISSING}.*"

    def context(self) -> dict:
        """What the template sees: the run's values, the number-placing functions and the readings."""
        from rlaif_lib.method import labeling

        m, judge = self.metrics, self.metrics.get("judge")
        judge = (judge.get("description") or judge.get("name") or "") if isinstance(judge, dict) else str(judge or "")
        where = ("examples/run (the committed example)" if self.run.resolve() == (ROOT / "examples" / "run").resolve()
                 else str(self.run.relative_to(ROOT)) if self.run.resolve().is_relative_to(ROOT) else str(self.run))
        rows = self.label_rows("techniques")[0]
        ctx = {"metrics": m, "preset": self.preset, "PAPER": paper, "CITATION": paper.CITATION, "MISSING": MISSING,
               "simulated": self.simulated, "where": where, "lab": labeling,
               "preset_name": str(m.get("preset") or self.preset.get("name") or "unknown"),
               "labeler_name": str(lookup(m, "labeler.name") or "kit labeler"),
               "judge": judge,
               "win_names": list(paper.WIN_RATE) + [n for n in (m.get("win_rate") or {}) if n not in paper.WIN_RATE],
               "demo_text": self.demo_text, "demo_source": self.demo_source,
               "has_sweep": bool(sweep_points(self.sweep)[0]), "sweep_png": sweep_png(self.sweep_path),
               "overopt": self.overopt_text(), "seed_table": self.seed_table(),
               "get": partial(lookup, m), "pair": lambda name: " vs ".join(policy_pair(name)),
               "policy": lambda name: readings.POLICY_NAMES.get(name, name),
               "techniques_reading": partial(self.reading, readings.techniques_reading, rows),
               "comparison_notes": [html.escape(n, quote=False)
                                    for n in readings.paper_comparison_notes(m, self.preset)]}
        for name in ("win_verdict", "win_reading", "position_reading", "alignment_reading", "rm_reading",
                     "gold_reading", "agreement_reading"):
            ctx[name] = partial(self.reading, getattr(readings, name), m)
        for name in ("kit", "ci", "paper", "example_prompt", "techniques_table", "self_consistency_table",
                     "sweep_points", "figure"):
            ctx[name] = getattr(self, name)
        return ctx


def split_slides(markdown: str) -> tuple[str, list[str]]:
    """(front matter, slides) of a Marp markdown text."""
    parts = re.split(r"^---\s*$", markdown, flags=re.M)
    return "---" + parts[1] + "---\n", parts[2:]


def render(template: str, deck: Deck) -> str:
    """Render the template for `deck`; speaker notes as plain text (their numbers are not recorded in
    deck.numbers, which lists what is on the slides). A slide without speaker notes is an error."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, extensions=["jinja2.ext.do"])
    env.filters["code"] = code
    placed = len(deck.numbers)
    text = env.from_string(template).render(deck.context())
    text = NOTES.sub(lambda m: "<!--" + html.unescape(re.sub(r"<[^>]+>", "", m[1])) + "-->", text)
    front, slides = split_slides(text)
    for i, slide in enumerate(slides, 1):
        if not [c for c in NOTES.findall(slide) if not re.match(r"\s*_?\w+:\s", c)]:
            raise ValueError(f"slide {i} has no speaker notes: {slide.strip()[:80]!r}")
    shown = deck.numbers[placed:]
    deck.numbers[placed:] = [n for i, n in enumerate(shown, placed) for _ in range(text.count(f'data-i="{i}"'))]
    return text


def inline_images(markdown: str, folder: Path) -> str:
    """The markdown with every `](figures/x.png)` replaced by a data URI, so the HTML is one file."""
    def data_uri(m):
        return "](data:image/png;base64," + base64.b64encode((folder / m[1]).read_bytes()).decode() + ")"
    return re.sub(r"\]\((figures/[^)\s]+\.png)\)", data_uri, markdown)


def capture_demo(mode: str, timeout: float) -> tuple[str, str]:
    """(output, where it came from): run slides/live_demo.py now ("auto"), or use the stored output."""
    stored = DEMO_FALLBACK.read_text() if DEMO_FALLBACK.exists() else "(no stored demo output)"
    if mode == "skip":
        return stored, "Stored output of slides/live_demo.py (live_demo_output.txt); not rerun for this build."
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        res = subprocess.run([sys.executable, str(SLIDES / "live_demo.py")], capture_output=True, text=True,
                             timeout=timeout, env=env, cwd=ROOT)
        if res.returncode == 0 and "Debiased label" in res.stdout:
            return res.stdout, f"Captured when this deck was built ({time.strftime('%Y-%m-%d %H:%M')})."
        reason = (res.stderr.strip().splitlines() or ["no output"])[-1]
    except subprocess.TimeoutExpired:
        reason = f"took over {timeout:.0f} s"
    return stored, f"The labeler could not run at build time ({reason[:120]}): stored output shown."


def chrome_env() -> dict:
    """Environment for Marp's browser: Debian's chromium, no sandbox when root, background networking off."""
    env = dict(os.environ)
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found and not env.get("CHROME_PATH"):
        env["CHROME_PATH"] = found
    if hasattr(os, "getuid") and os.getuid() == 0:
        env.setdefault("CHROME_NO_SANDBOX", "1")
    return env


def marp(args: list[str], env: dict) -> None:
    if not MARP.exists():
        raise FileNotFoundError(f"{MARP} is missing: run `make slides-setup` (npm ci in slides/).")
    res = subprocess.run([str(MARP), "--no-config-file", "--html", "--allow-local-files", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"marp {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")


def build(run: Path, out: Path, pdf: bool = True, live_demo: str = "auto", demo_timeout: float = 90,
          sweep: Path | None = None) -> dict:
    """Build the deck from `run` into `out`; return a summary (paths, sizes, seconds, slide count)."""
    start = time.time()
    run, out = Path(run).resolve(), Path(out).resolve()
    metrics_path = run / "metrics.json"
    if not metrics_path.exists():
        raise FileNotFoundError(f"{metrics_path} not found: point --run at a finished run folder "
                                "(`make demo` writes runs/demo; the committed example is examples/run).")
    try:
        metrics = json.loads(metrics_path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{metrics_path}: not valid JSON ({e})") from None
    preset = json.loads((run / "preset.json").read_text()) if (run / "preset.json").exists() else {}
    if sweep is None:
        sweep = next((p for p in (run / "sweep.json", ROOT / "runs" / "sweep" / "sweep.json") if p.exists()), None)
    demo_text, demo_source = capture_demo(live_demo, demo_timeout)
    from rlaif_lib.experiments import overoptimization, seeds
    from rlaif_lib.experiments.precomputed import committed_tables  # Tables 2 and 14 when the run left them out

    name = metrics.get("preset") or preset.get("name")  # committed studies are shown beside runs of their preset
    deck = Deck(run, metrics, preset, json.loads(Path(sweep).read_text()) if sweep else None,
                Path(sweep) if sweep else None, demo_text, demo_source, tables=committed_tables(preset),
                overopt=overoptimization.load_committed(name), seeds=seeds.load_committed(name))
    markdown = render(TEMPLATE.read_text(), deck)
    out.mkdir(parents=True, exist_ok=True)
    figs = out / "figures"
    shutil.rmtree(figs, ignore_errors=True)
    figs.mkdir()
    for name in FIGURES:
        if (run / "figures" / name).exists():
            shutil.copy2(run / "figures" / name, figs / name)
    if sweep_png(deck.sweep_path):
        shutil.copy2(sweep_png(deck.sweep_path), figs / "sweep.png")
    if deck.overopt:
        import matplotlib.pyplot as plt

        fig = overoptimization.plot_overoptimization(deck.overopt)
        fig.savefig(figs / "overoptimization.png", dpi=100)
        plt.close(fig)
    (out / "talk.md").write_text(markdown)
    n_slides = len(split_slides(markdown)[1])
    numbers = {"run": str(run), "slides": n_slides, "numbers": deck.numbers}
    (out / "numbers.json").write_text(json.dumps(numbers, indent=1))

    inline = out / ".talk.inline.md"
    inline.write_text(inline_images(markdown, out))
    env = chrome_env()
    try:
        marp([str(inline), "--bespoke.progress", "-o", str(out / "talk.html")], env)
        marp([str(inline), "--notes", "-o", str(out / "talk.notes.txt")], env)
        if pdf:
            marp([str(inline), "--pdf", "--pdf-notes", "--pdf-outlines", "-o", str(out / "talk.pdf")], env)
    finally:
        inline.unlink(missing_ok=True)
    return {"html": str(out / "talk.html"), "pdf": str(out / "talk.pdf") if pdf else None, "slides": n_slides,
            "html_kb": round((out / "talk.html").stat().st_size / 1024),
            "pdf_kb": round((out / "talk.pdf").stat().st_size / 1024) if pdf else None,
            "numbers": len(deck.numbers), "seconds": round(time.time() - start, 1), "run": str(run),
            "live_demo": demo_source}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Build the RLAIF talk (HTML + PDF) from a run folder.")
    ap.add_argument("--run", type=Path, default=None,
                    help="run folder (default: runs/demo if finished, else examples/run)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    ap.add_argument("--no-pdf", action="store_true", help="HTML only (no browser needed)")
    ap.add_argument("--live-demo", choices=("auto", "skip"), default=os.environ.get("SLIDES_LIVE_DEMO", "auto"),
                    help="auto: run slides/live_demo.py now and show its output; skip: show the stored output")
    ap.add_argument("--demo-timeout", type=float, default=90)
    ap.add_argument("--sweep", type=Path, default=None,
                    help="sweep.json (default: <run>/sweep.json or runs/sweep/sweep.json)")
    args = ap.parse_args(argv)
    run = args.run or default_run()
    print(f"Building the talk from {run} ...", flush=True)
    summary = build(run, args.out, pdf=not args.no_pdf, live_demo=args.live_demo, demo_timeout=args.demo_timeout,
                    sweep=args.sweep)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
