// Open the built deck in headless Chromium (puppeteer-core + Debian's chromium), walk every slide,
// and print one JSON report on stdout: slides, notes, broken images, failed or non-local requests,
// JS errors, overflowing slides, and every tagged number with the slide it is on.
//
//   node slides/check_deck.mjs build/slides/talk.html [screenshot-dir] [slide numbers to shoot, e.g. 1,10,25]
//
// tests/test_slides.py runs this and checks the report against the run's metrics.json.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const [htmlPath, shotDir, shotList] = process.argv.slice(2);
if (!htmlPath || !fs.existsSync(htmlPath)) {
  console.error(`usage: node check_deck.mjs DECK.html [SCREENSHOT_DIR] [1,2,3]; no such file: ${htmlPath}`);
  process.exit(2);
}
const executablePath = process.env.CHROME_PATH || "/usr/bin/chromium";
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "deck-chromium-"));
const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  userDataDir: profile,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const report = { errors: [], console_errors: [], failed_requests: [], nonlocal_requests: [], slides: 0,
                 notes: 0, active_walk: [], broken_images: [], images: 0, overflow: [], numbers: [], paper: [],
                 readings: [], titles: [], screenshots: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  page.on("pageerror", (e) => report.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") report.console_errors.push(m.text()); });
  page.on("requestfailed", (r) => report.failed_requests.push(`${r.url().slice(0, 120)} ${r.failure()?.errorText}`));
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("file:") && !u.startsWith("data:") && !u.startsWith("blob:") && !u.startsWith("about:"))
      report.nonlocal_requests.push(u.slice(0, 200));
  });
  await page.goto(pathToFileURL(path.resolve(htmlPath)).href, { waitUntil: "load" });

  // Static facts about the whole deck.
  Object.assign(report, await page.evaluate(() => {
    const svgs = [...document.querySelectorAll("svg[data-marpit-svg]")];
    const slideOf = (el) => svgs.findIndex((s) => s.contains(el)) + 1;
    const pick = (sel, f) => [...document.querySelectorAll(sel)].map((el) => ({ slide: slideOf(el), text: el.textContent, ...f(el) }));
    return {
      slides: svgs.length,
      notes: document.querySelectorAll(".bespoke-marp-note").length,
      notes_nonempty: [...document.querySelectorAll(".bespoke-marp-note")].filter((n) => n.textContent.trim()).length,
      titles: svgs.map((s) => (s.querySelector("h1, h2")?.textContent || "").trim()),
      numbers: pick("span.kit", (el) => ({ source: el.dataset.source, key: el.dataset.key, scale: Number(el.dataset.scale) })),
      paper: pick("span.paper", (el) => ({ name: el.dataset.name, index: el.dataset.index ?? null })),
      readings: pick("span.reading", (el) => ({ claim: el.dataset.claim })),
      missing: pick("span.missing", () => ({})).length,
    };
  }));

  // Walk every slide with the keyboard, as a presenter would, and inspect the one on screen.
  const shots = new Set((shotList || "").split(",").filter(Boolean).map(Number));
  if (shotDir) fs.mkdirSync(shotDir, { recursive: true });
  for (let i = 1; i <= report.slides; i++) {
    if (i > 1) await page.keyboard.press("ArrowRight");
    await page.waitForFunction((n) => {
      const svgs = [...document.querySelectorAll("svg[data-marpit-svg]")];
      return svgs[n - 1]?.classList.contains("bespoke-marp-active");
    }, { timeout: 5000 }, i).catch(() => {});
    const state = await page.evaluate(async (n) => {
      const svgs = [...document.querySelectorAll("svg[data-marpit-svg]")];
      const active = svgs.findIndex((s) => s.classList.contains("bespoke-marp-active")) + 1;
      const section = svgs[n - 1].querySelector("section");
      const imgs = [...section.querySelectorAll("img")];
      await Promise.all(imgs.map((im) => (im.complete ? null : new Promise((r) => { im.onload = im.onerror = r; }))));
      const broken = imgs.filter((im) => !(im.complete && im.naturalWidth > 0)).map((im) => im.src.slice(0, 80));
      // Content that does not fit: anything whose box ends below or right of the slide.
      const box = section.getBoundingClientRect();
      const scale = box.height / section.offsetHeight;
      let bottom = 0, right = 0;
      for (const el of section.querySelectorAll("h1, h2, p, li, table, pre, img, svg, div.cols, div.cols3")) {
        if (el.closest(".badge")) continue;
        const r = el.getBoundingClientRect();
        bottom = Math.max(bottom, (r.bottom - box.top) / scale);
        right = Math.max(right, (r.right - box.left) / scale);
      }
      return { active, images: imgs.length, broken, bottom: Math.round(bottom), right: Math.round(right),
               height: section.offsetHeight, width: section.offsetWidth };
    }, i);
    report.active_walk.push(state.active);
    report.images += state.images;
    report.broken_images.push(...state.broken.map((b) => `slide ${i}: ${b}`));
    if (state.bottom > state.height || state.right > state.width)
      report.overflow.push({ slide: i, bottom: state.bottom, right: state.right, height: state.height, width: state.width });
    if (shotDir && shots.has(i)) {  // without the on-screen controller, which hides after a few seconds anyway
      await page.addStyleTag({ content: ".bespoke-marp-osc { display: none !important; }" });
      const file = path.join(shotDir, `slide-${String(i).padStart(2, "0")}.png`);
      await page.screenshot({ path: file });
      report.screenshots.push(file);
    }
  }
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
