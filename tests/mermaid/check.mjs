// Check mermaid blocks with mermaid itself: parse each under node, render each in headless Chromium.
//
//   node check.mjs < blocks.json            # a JSON list of mermaid sources
//   node check.mjs report.md chart.mmd      # every ```mermaid block of a .md file; a whole other file
//   node check.mjs --no-render < blocks.json
//
// Prints one JSON object: {"mermaid": VERSION, "chromium": VERSION, "blocks": [...]}, one entry a block:
//   {"parse": {"ok": true, "type": "xychart"} | {"ok": false, "error": MESSAGE},
//    "render": null (not rendered) | {"ok": false, "error": MESSAGE}
//            | {"ok": true, "svg": SVG, "series": [{"kind": "line" | "bar", "points": N}, ...]}}
// A line's points are the vertices of its path's `d`; a bar series' points are its <rect>s.
// Exit status: 0 every block parsed (and rendered), 1 some block did not, 2 the harness itself failed.
//
// Chromium: $NICHES_CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH. Mermaid is loaded from
// ./node_modules over file://, so nothing is fetched from the network.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { JSDOM } from "jsdom";

const HERE = dirname(fileURLToPath(import.meta.url));
const MERMAID_JS = join(HERE, "node_modules", "mermaid", "dist", "mermaid.min.js");
const RENDER_TIMEOUT_MS = 120_000;

class HarnessError extends Error {}

function fail(message) {
  throw new HarnessError(message);
}

function readSources(args) {
  if (args.length === 0) {
    const sources = JSON.parse(readFileSync(0, "utf8"));
    if (!Array.isArray(sources) || !sources.every((s) => typeof s === "string")) {
      fail("stdin must be a JSON list of strings");
    }
    return sources;
  }
  const sources = [];
  for (const file of args) {
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".md")) {
      for (const m of text.matchAll(/^```mermaid\n([\s\S]*?)^```/gm)) sources.push(m[1]);
    } else {
      sources.push(text);
    }
  }
  return sources;
}

// mermaid sanitises labels with DOMPurify, which needs a window: give it jsdom's.
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

async function parse(source) {
  try {
    const result = await mermaid.parse(source);
    return { ok: true, type: result.diagramType };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error) };
  }
}

function chromiumPath() {
  if (process.env.NICHES_CHROMIUM) return process.env.NICHES_CHROMIUM;
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "chromium"))) return join(dir, "chromium");
  }
  return null;
}

// The page renders every block, then writes the results as base64 JSON into <pre id="out">, which
// --dump-dom prints once the page is idle (virtual time lets mermaid's promises settle first).
function page(sources) {
  const data = JSON.stringify(sources).replace(/</g, "\\u003c");
  return `<!doctype html>
<html><head><meta charset="utf-8">
<script src="${pathToFileURL(MERMAID_JS).href}"></script>
</head><body><pre id="out">PENDING</pre>
<script>
const sources = ${data};
function done(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  document.getElementById("out").textContent = "RESULT:" + btoa(binary) + ":END";
}
(async () => {
  if (typeof mermaid === "undefined") return done({ error: "mermaid.min.js did not load" });
  mermaid.initialize({ startOnLoad: false });
  const out = [];
  for (let i = 0; i < sources.length; i++) {
    try {
      const { svg } = await mermaid.render("block" + i, sources[i]);
      out.push({ ok: true, svg });
    } catch (error) {
      out.push({ ok: false, error: String(error && error.message || error) });
    }
  }
  done({ results: out });
})().catch((error) => done({ error: String(error) }));
</script></body></html>
`;
}

function renderAll(chromium, sources) {
  const dir = mkdtempSync(join(tmpdir(), "niches-mermaid-"));
  try {
    const html = join(dir, "page.html");
    writeFileSync(html, page(sources));
    const run = spawnSync(
      chromium,
      [
        "--headless",
        "--no-sandbox", // CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        `--user-data-dir=${join(dir, "profile")}`,
        "--virtual-time-budget=60000",
        "--dump-dom",
        pathToFileURL(html).href,
      ],
      { encoding: "utf8", timeout: RENDER_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 },
    );
    const tail = (run.stderr ?? "").split("\n").slice(-15).join("\n");
    if (run.error) fail(`${chromium} did not run: ${run.error.message}\n${tail}`);
    const match = /RESULT:([A-Za-z0-9+/=]*):END/.exec(run.stdout ?? "");
    if (!match) fail(`${chromium} (exit ${run.status}) printed no result from the page\n${tail}`);
    const value = JSON.parse(Buffer.from(match[1], "base64").toString("utf8"));
    if (value.error) fail(`page: ${value.error}`);
    return value.results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Vertices of a path's d: every coordinate pair (M x,y L x,y ... or the implicit-lineto form).
function vertices(d) {
  const numbers = (d.match(/-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi) ?? []).map(Number);
  if (/[^MLZ0-9eE.,\s+-]/i.test(d) || numbers.length % 2 !== 0 || !numbers.every(Number.isFinite)) {
    return -1; // curves or NaN: not a plain polyline, so no count to trust
  }
  return numbers.length / 2;
}

// xychart: <g class="plot"> holds one <g class="line-plot-I"> (a <path d=...>) or <g class="bar-plot-I">
// (one <rect> a bar) per series, I the series' place in the source.
function series(svg) {
  const doc = new dom.window.DOMParser().parseFromString(svg, "image/svg+xml");
  const found = [];
  for (const g of doc.querySelectorAll("g.plot > g")) {
    const m = /^(line|bar)-plot-(\d+)$/.exec(g.getAttribute("class") ?? "");
    if (!m) continue;
    let points;
    if (m[1] === "line") {
      const paths = g.querySelectorAll("path");
      points = paths.length === 1 ? vertices(paths[0].getAttribute("d") ?? "") : -1;
    } else {
      points = g.querySelectorAll("rect").length;
    }
    found.push({ kind: m[1], index: Number(m[2]), points });
  }
  found.sort((a, b) => a.index - b.index);
  return found.map(({ kind, points }) => ({ kind, points }));
}

async function main(args) {
  const noRender = args.includes("--no-render");
  const sources = readSources(args.filter((a) => a !== "--no-render"));
  const blocks = [];
  for (const source of sources) blocks.push({ parse: await parse(source), render: null });

  const pkg = JSON.parse(readFileSync(join(HERE, "node_modules", "mermaid", "package.json"), "utf8"));
  const report = { mermaid: pkg.version, chromium: null, blocks };
  const toRender = blocks.flatMap((b, i) => (b.parse.ok ? [i] : []));
  if (!noRender && toRender.length > 0) {
    const chromium = chromiumPath();
    if (!chromium) fail("no Chromium: set NICHES_CHROMIUM or install Debian's chromium");
    report.chromium = spawnSync(chromium, ["--version"], { encoding: "utf8" }).stdout?.trim() || null;
    const results = renderAll(chromium, toRender.map((i) => sources[i]));
    toRender.forEach((i, k) => {
      const r = results[k];
      blocks[i].render = r.ok ? { ok: true, svg: r.svg, series: series(r.svg) } : r;
    });
  }

  process.stdout.write(`${JSON.stringify(report)}\n`);
  return blocks.every((b) => b.parse.ok && (noRender || b.render?.ok)) ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof HarnessError)) throw error;
  process.stderr.write(`check.mjs: ${error.message}\n`);
  process.exitCode = 2;
}
